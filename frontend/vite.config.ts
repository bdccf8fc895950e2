import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  build: {
    // dist/.gitkeep is tracked (go:embed needs the folder on a clone without a build): the build
    // clears the rest itself (scripts/clean-dist.mjs) instead of emptying the folder.
    emptyOutDir: false,
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    manifest: true, // read by scripts/bundle-size.mjs (never served: the server skips dot folders)
    // The CSP allows no inline code: never inline the module preload helper or small assets.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: {
    // `npm run dev` against a running `portside serve` (make run): same-origin through the proxy.
    proxy: {
      '/graphql': { target: 'http://127.0.0.1:7007', ws: true },
      '/auth': 'http://127.0.0.1:7007',
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    // Above the 10 s deadline tests wait for a state with (src/test/setup.ts).
    testTimeout: 30_000,
  },
});
