// Host stub (declarations only), see Arduino.h.
#pragma once
#include "WiFi.h"

class WiFiClientSecure : public WiFiClient {
 public:
  void setCACert(const char* rootCA);
  void setInsecure();
  void setHandshakeTimeout(unsigned long seconds);
};
