#!/bin/bash
# Installs the shipped lab flows on first start, puts the lab's settings (editor login, request
# checks: docker/settings.js) in place at every start, then runs Node-RED as the image normally does.
set -e
if [ ! -f /data/flows.json ]; then
  node -e '
    const fs = require("fs");
    const dir = "/opt/mqttsec/flows";
    const flows = fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort()
      .flatMap((f) => JSON.parse(fs.readFileSync(dir + "/" + f, "utf8")));
    fs.writeFileSync("/data/flows.json", JSON.stringify(flows, null, 2));'
fi
cp /opt/mqttsec/docker/settings.js /data/settings.js
exec ./entrypoint.sh "$@"
