# Node-RED 4 with this package, the dashboard and the lab flows.
FROM nodered/node-red:4.1-20

USER root
COPY --chown=node-red:node-red . /opt/mqttsec
USER node-red
# Build the package, then install it and the dashboard into Node-RED's own folder.
RUN cd /opt/mqttsec && npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev \
 && cd /usr/src/node-red && npm install --no-audit --no-fund /opt/mqttsec node-red-dashboard@3.6 node-red-node-ui-table
# First start: the lab flows, unless /data already has flows of its own.
COPY --chown=node-red:node-red docker/entrypoint.sh /usr/src/node-red/mqttsec-entrypoint.sh
ENTRYPOINT ["/bin/bash", "/usr/src/node-red/mqttsec-entrypoint.sh"]
