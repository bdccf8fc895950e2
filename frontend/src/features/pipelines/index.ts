// The pipelines feature's public face for other features (the component page shows the section).
export { PipelinesSection } from './PipelinesSection';
