package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readConfig writes text to a file, reads it over the defaults and
// validates the result, as `comptoir-edge run --config` does.
func readConfig(t *testing.T, text string) (Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "edge.json")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	if err := cfg.ReadConfigFile(path); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func TestConfigRefusesUnknownKeys(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"top level", `{"data_dri":"x"}`, "data_dri: unknown key (known: data_dir, "},
		{"rules", `{"rules":{"max_weigth_g":25000}}`, "rules.max_weigth_g: unknown key (known: allow_dangerous_goods, cancel_grace,"},
		{"printers", `{"printers":{"lable":"none"}}`, "printers.lable: unknown printer (known: label, receipt)"},
		{"nested twice", `{"relay_point":{"address":{"citty":"Lyon"}}}`, "relay_point.address.citty: unknown key"},
		{"printing", `{"printing":{"dpi":300}}`, "printing.dpi: unknown key"},
		{"scale", `{"scale":{"devise":"/dev/ttyUSB0"}}`, "scale.devise: unknown key (known: baud, device, protocol)"},
		{"scale protocol", `{"scale":{"device":"/dev/ttyUSB0","protocol":"toledo"}}`, `scale.protocol: "toledo" is not mt-sics or hid-pos`},
		{"scale baud", `{"scale":{"device":"/dev/ttyUSB0","baud":9601}}`, "scale.baud: 9601 is not a serial speed"},
		{"case differs", `{"Rules":{}}`, "Rules: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readConfig(t, tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one with %q", err, tt.want)
			}
		})
	}
}

func TestConfigWrongTypesNameTheJSONPath(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"rules number", `{"rules":{"max_weight_g":"25kg"}}`, "rules.max_weight_g: want a whole number, not string"},
		{"rules list item", `{"rules":{"max_dims_cm":[120,"60",40]}}`, "rules.max_dims_cm: want a whole number, not string"},
		{"rules bool", `{"rules":{"refuse_unverified":"yes"}}`, "rules.refuse_unverified: want true or false, not string"},
		{"top level", `{"disk_budget_bytes":"2GB"}`, "disk_budget_bytes: want a whole number, not string"},
		{"duration", `{"retention":30}`, "retention: want text, not number"},
		{"printer url", `{"printers":{"label":9100}}`, "printers.label: want text, not number"},
		{"scale baud", `{"scale":{"device":"/dev/ttyS0","baud":"9600"}}`, "scale.baud: want a whole number, not string"},
		{"nested", `{"relay_point":{"address":{"city":75}}}`, "relay_point.address.city: want text, not number"},
		{"object", `{"rules":[]}`, "rules: want an object"},
		{"not an object", `[1]`, "the file: want an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readConfig(t, tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one with %q", err, tt.want)
			}
			for _, internal := range []string{"plain", "Config.", "Go value", "Go struct"} {
				if strings.Contains(err.Error(), internal) {
					t.Errorf("error %q names Go internals (%q)", err, internal)
				}
			}
		})
	}
}

func TestConfigPartialObjects(t *testing.T) {
	cfg, err := readConfig(t, `{
		"rules": {"max_weight_g": 25000, "cancel_grace": "10m", "max_dims_cm": [120, 60, 40]},
		"printers": {"label": "none"},
		"relay_point": {"address": {"city": "Lyon"}},
		"retention": "240h",
		"max_image_pixels": null
	}`)
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	if cfg.Rules.MaxWeightG != 25000 || cfg.Rules.CancelGrace != 10*time.Minute || len(cfg.Rules.MaxDimsCM) != 3 {
		t.Errorf("rules %+v: the file's values not applied", cfg.Rules)
	}
	if cfg.Rules.MaxSumCM != def.Rules.MaxSumCM || cfg.Rules.HoldTime != def.Rules.HoldTime {
		t.Errorf("rules %+v: defaults of keys left out lost", cfg.Rules)
	}
	if cfg.Printers["label"] != "none" || cfg.RelayPoint.Address.City != "Lyon" || time.Duration(cfg.Retention) != 240*time.Hour {
		t.Errorf("config %+v: the file's values not applied", cfg)
	}
	if cfg.MaxImagePixels != def.MaxImagePixels || cfg.HTTPAddr != def.HTTPAddr {
		t.Errorf("config %+v: defaults lost", cfg)
	}
}

// The packaged config must pass the strict reading.
func TestPackagedConfig(t *testing.T) {
	text, err := os.ReadFile("../../../build/package/edge.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readConfig(t, string(text)); err != nil {
		t.Fatalf("build/package/edge.json: %v", err)
	}
}

// TestConfigRetentions: skeletons may not go before the personal data they
// were scrubbed of would.
func TestConfigRetentions(t *testing.T) {
	if _, err := readConfig(t, `{"retention":"720h","history_retention":"240h"}`); err == nil || !strings.Contains(err.Error(), "history_retention") {
		t.Errorf("history shorter than the retention: %v, want an error naming history_retention", err)
	}
	cfg, err := readConfig(t, `{"retention":"48h","history_retention":"48h"}`)
	if err != nil || time.Duration(cfg.HistoryRetention) != 48*time.Hour {
		t.Errorf("equal retentions: %+v, %v", cfg.HistoryRetention, err)
	}
}
