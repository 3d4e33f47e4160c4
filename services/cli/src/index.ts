export {
  describeConnector,
  registerShopConnector,
  shopConnectorConfig,
} from './commands/connector';
export { runDemo } from './commands/demo';
export { migrateAll } from './commands/migrate';
export { runStackScript } from './commands/stack';
export { renderTable } from './table';
export { REPO_ROOT, SHOP_CONNECTOR_NAME, STACK_SCRIPT } from './paths';
