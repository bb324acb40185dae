# Vigil daemon image. TypeScript runs directly on Node 24 (type stripping): no build step.
FROM node:24-slim

WORKDIR /app
ENV NODE_ENV=production \
    VIGIL_HOST=0.0.0.0

COPY package.json package-lock.json ./
# The `node` devDependency only pins Node for checkouts; the image already has Node 24.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

COPY src ./src
COPY vigil.yaml ./
COPY probes ./probes
COPY scenarios ./scenarios
COPY alerts ./alerts

# The compile cache filled at build (src/runtime/warm-cache.ts), read-only at run time: every container starts
# without Node's TypeScript stripper (about 17 MB per process) and without the second a cold cache takes to fill.
ENV VIGIL_COMPILE_CACHE=/app/.compile-cache
RUN node -e "import('./src/runtime/warm-cache.ts').then((m) => { const r = m.warmCompileCache(process.env.VIGIL_COMPILE_CACHE); if (!r.warmed) throw new Error('compile cache not warmed: ' + r.reason); })"

RUN mkdir -p /app/data && chown -R node:node /app/data
USER node

EXPOSE 9464
VOLUME ["/app/data"]
# /healthz is liveness: 503 when the store can't be written for storage.unwritable_grace (5m), the scheduler or
# incident engine stopped ticking, or the event loop stalled (README "Operating Vigil"); a hung process fails by the fetch's own timeout.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz', { signal: AbortSignal.timeout(4000) }).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Vigil stops gracefully on SIGTERM within shutdown_grace + 10 s (docker stop -t 30).
STOPSIGNAL SIGTERM

ENTRYPOINT ["node", "src/main.ts"]
CMD ["run", "--config", "/app"]
