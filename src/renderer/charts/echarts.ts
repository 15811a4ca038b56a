// ECharts with only the parts the lab draws (tree-shaken build): heat maps, lines, bars, scatter, and a
// custom series that places the image of a large heat map (charts/raster.ts); grid,
// tooltip, continuous visual map, data zoom, legend, title, mark areas and lines; canvas for the screen
// (fast for 512 × 512 heat maps) and SVG for vector export.
// `echarts/core` is ECharts' tree-shakable entry point (the layering lint only matches relative imports of src/core).
import * as echarts from 'echarts/core'
import { BarChart, CustomChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts'
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapContinuousComponent,
} from 'echarts/components'
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers'

echarts.use([
  HeatmapChart,
  LineChart,
  BarChart,
  ScatterChart,
  CustomChart,
  GridComponent,
  TooltipComponent,
  VisualMapContinuousComponent,
  DataZoomComponent,
  LegendComponent,
  TitleComponent,
  MarkAreaComponent,
  MarkLineComponent,
  CanvasRenderer,
  SVGRenderer,
])

export { echarts }
export const { zrUtil } = echarts
export type { EChartsType } from 'echarts'
