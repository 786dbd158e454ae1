// Plot components, drawn with uPlot (canvas), one module per kind:
//   series.js    SeriesPlot (curves over a shared x axis, linear or log; log or linear y) and
//                LossPlot (train and test loss against step, the Playground's loss panel)
//   fit.js       FitPlot (1-D regression: predictions and the target on the grid, the data)
//   ensemble.js  EnsemblePlot (many finite networks over a 1-D input against the infinite-width
//                band μ ± 2σ)
//   boundary.js  BoundaryPlot (2-D classification: the prediction on a G×G grid as a diverging
//                heatmap under the data, with the decision boundary f = 0)
//                or, with K outputs, the decision regions coloured by class (classes.js)
//   confusion.js ConfusionPlot (a K-class confusion matrix as a shaded table)
//   digits.js    DigitStrip (misclassified 8×8 test images with their true and predicted class)
//   matrix.js    MatrixPlot (a square matrix as a heatmap, sequential or diverging)
//   heatmap.js   GridHeatmap (a heatmap over two log-spaced grids: phase diagrams)
//   bags.js      BagsPlot (bags of instances as stacked bars of their class proportions)
//   common.js    colours, type, axes, sizing and the export-spec frame they share
// Every component takes a container element, sizes itself to the container's width, and never
// draws a non-finite value (those become gaps). Pages import from this file.

export {
  COLORS, MODEL_STYLES, FONT_FAMILY, setPlotScale, heatColor, heatGradientCss, seqColor, gridLabel,
  setPlotHeightCap, refitPlots, stepLabel,
} from './common.js';
export { SeriesPlot, LossPlot } from './series.js';
export { FitPlot } from './fit.js';
export { EnsemblePlot, ENSEMBLE_STYLES } from './ensemble.js';
export { BoundaryPlot } from './boundary.js';
export { ConfusionPlot } from './confusion.js';
export { DigitStrip } from './digits.js';
export { classCss, classLabel } from './classes.js';
export { MatrixPlot } from './matrix.js';
export { GridHeatmap } from './heatmap.js';
export { BagsPlot } from './bags.js';
