// The option type every chart builder returns: ECharts' ComposeOption over exactly the parts BaseChart registers.
import type { ComposeOption } from 'echarts'
import type { BarSeriesOption, CustomSeriesOption, HeatmapSeriesOption, LineSeriesOption, ScatterSeriesOption } from 'echarts/charts'
import type {
  DataZoomComponentOption,
  GridComponentOption,
  LegendComponentOption,
  MarkAreaComponentOption,
  MarkLineComponentOption,
  TitleComponentOption,
  TooltipComponentOption,
  VisualMapComponentOption,
} from 'echarts/components'

export type ChartOption = ComposeOption<
  | HeatmapSeriesOption
  | LineSeriesOption
  | BarSeriesOption
  | ScatterSeriesOption
  | CustomSeriesOption
  | GridComponentOption
  | TooltipComponentOption
  | VisualMapComponentOption
  | DataZoomComponentOption
  | LegendComponentOption
  | TitleComponentOption
  | MarkAreaComponentOption
  | MarkLineComponentOption
>

export type { HeatmapSeriesOption, LineSeriesOption, BarSeriesOption, ScatterSeriesOption }
