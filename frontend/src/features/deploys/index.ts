// The deploys feature's public face for other features (the component page shows the section).
export { DeployRequestsSection } from './DeployRequestsSection';
