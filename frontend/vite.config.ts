import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev:ui` serves the UI on :5173 and sends /api (and its WebSocket) to a server on
// :3100 (`paperclip run`); `npm run build:ui` writes frontend/dist, which the server serves.
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: { "/api": { target: "http://127.0.0.1:3100", ws: true } },
  },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
});
