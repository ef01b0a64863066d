#!/usr/bin/env node
// Entry point: registers the TypeScript loader (tsx) so Vigil runs from source with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
