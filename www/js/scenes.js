// The scenes, by the name the web component (embed/descent-scene.js) and the embed snippets use.
// No imports: the web component loads this on the host page.

export const SCENES = Object.freeze({
  playground: { page: 'index.html', title: 'Playground' },
  lazy: { page: 'lazy.html', title: 'Lazy or rich' },
  'double-descent': { page: 'double-descent.html', title: 'Double descent' },
  step: { page: 'step.html', title: 'Step size' },
});
