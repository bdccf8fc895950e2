// The runbooks feature's public face for other features (the component page shows the section).
export { RunbooksSection } from './RunbooksSection';
