#!/usr/bin/env node
// The `tidemark` command. Sources are TypeScript, run through tsx's loader; no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
