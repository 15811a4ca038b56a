// The hover read-out of a heat map drawn as an image (charts/raster.ts): the cell under the pointer is
// found from the grid's axes, and the same exact-value text the ECharts tooltip shows for small maps is
// placed next to the pointer.
import { reactive, watch, type ShallowRef } from 'vue'
import type { EChartsType } from '../charts/echarts'
import { cellAt, type RasterHeatmap } from '../charts/raster'

export function useRasterHover(chart: ShallowRef<EChartsType | null>, raster: () => RasterHeatmap | null) {
  const tip = reactive({ visible: false, html: '', x: 0, y: 0 })
  let detach: (() => void) | undefined

  function bind(instance: EChartsType | null): void {
    detach?.()
    detach = undefined
    tip.visible = false
    if (!instance) return
    const zr = instance.getZr()
    const move = (event: { offsetX: number; offsetY: number }): void => {
      const meta = raster()
      const point = [event.offsetX, event.offsetY]
      if (!meta || !instance.containPixel('grid', point)) {
        tip.visible = false
        return
      }
      const [column, row] = instance.convertFromPixel({ gridIndex: 0 }, point) as number[]
      const cell = cellAt(meta, column, row)
      if (!cell) {
        tip.visible = false
        return
      }
      Object.assign(tip, { visible: true, html: meta.tooltip(cell.i, cell.j), x: event.offsetX + 14, y: event.offsetY + 14 })
    }
    const out = (): void => {
      tip.visible = false
    }
    zr.on('mousemove', move)
    zr.on('globalout', out)
    detach = () => {
      zr.off('mousemove', move)
      zr.off('globalout', out)
    }
  }

  watch(chart, bind)
  return { tip, stop: () => detach?.() }
}
