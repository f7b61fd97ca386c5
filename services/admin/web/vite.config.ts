import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The admin console: built into `dist/` and served by the admin service at `/admin/`.
 * The root is this folder whatever the working directory, so
 * `npx vite build --config services/admin/web/vite.config.ts` works from the repository root.
 * Nothing is inlined into the HTML (the console's CSP allows no inline script or style).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/admin/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Assets stay files: no data: URLs for anything the CSP would have to allow.
    assetsInlineLimit: 0,
    target: 'es2022',
  },
  server: {
    // `vite` in this folder: the API of a running gateway on the same origin.
    proxy: { '/api': process.env.FLOTILLA_API_URL ?? 'http://127.0.0.1:3000' },
  },
});
