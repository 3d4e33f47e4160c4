import { fileURLToPath } from 'node:url';

/** The repository root, where infra/ and the connector configs live. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const STACK_SCRIPT = `${REPO_ROOT}infra/stack.sh`;
export const SHOP_CONNECTOR_CONFIG = `${REPO_ROOT}infra/connect/shop-connector.json`;
export const SHOP_CONNECTOR_NAME = 'tidemark-shop';
