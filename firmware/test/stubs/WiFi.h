// Host stub (declarations only), see Arduino.h.
#pragma once
#include "Arduino.h"

typedef enum { WIFI_OFF, WIFI_STA } wifi_mode_t;
typedef enum { WL_IDLE_STATUS = 0, WL_CONNECTED = 3, WL_DISCONNECTED = 6 } wl_status_t;

class WiFiClient : public Client {};

class WiFiClass {
 public:
  bool mode(wifi_mode_t mode);
  bool setAutoReconnect(bool on);
  wl_status_t begin(const char* ssid, const char* passphrase);
  bool disconnect(bool wifioff = false, bool eraseap = false);
  wl_status_t status();
  IPAddress localIP();
};
extern WiFiClass WiFi;
