/**
 * Vite build of the web UI: `web/` → `dist/web/`, served by src/server/routes/ui.ts.
 * `npm run dev:web` serves it with hot reload and proxies the API to a Vigil on :4400.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // The strict CSP forbids inline scripts: keep every asset a file, never a data: URL for scripts.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 800,
    sourcemap: false,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:4400' },
  },
});
