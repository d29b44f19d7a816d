// Retry timing for Wi-Fi and each MQTT connection, driven by millis() from loop() so a
// broker that is down never blocks the sensors. Header-only, tested on the host.
#ifndef LAB_BACKOFF_H
#define LAB_BACKOFF_H

#include <stdint.h>

struct LabBackoff {
  uint32_t minMs;
  uint32_t maxMs;
  uint32_t waitMs;
  uint32_t lastTry;
  bool tried;

  LabBackoff(uint32_t minDelay, uint32_t maxDelay)
      : minMs(minDelay), maxMs(maxDelay), waitMs(minDelay), lastTry(0), tried(false) {}

  // millis() is 32 bits on the ESP32; unsigned subtraction stays correct when it wraps (~49 days).
  bool due(uint32_t now) const { return !tried || (uint32_t)(now - lastTry) >= waitMs; }

  // Call when an attempt starts; the next one is allowed after the current wait.
  void attempt(uint32_t now) {
    if (tried) waitMs = (waitMs > maxMs / 2) ? maxMs : waitMs * 2;
    lastTry = now;
    tried = true;
  }

  void succeeded() {
    waitMs = minMs;
    tried = false;
  }
};

#endif
