package main

import (
	"net/http"
	"testing"
	"time"
)

// TestRefusedScanReachesCloud: a code refused at the scan, never deposited,
// is journalled at the terminal, synced, and counted in the cloud's
// refusals report and the relay point's statement.
func TestRefusedScanReachesCloud(t *testing.T) {
	cloud, _, operator := startCloud(t, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0")
	defer cloud.Close()
	_, kiosk := enrolledTerminal(t, cloud, operator, "term-refusals-e2e", "Relais refus")

	before := time.Now().UTC()
	var scan scanResult
	if code := kiosk.do("POST", "/api/scan", map[string]string{"code": "not a return code"}, &scan); code != http.StatusOK || scan.Eligible {
		t.Fatalf("scan: status %d eligible %v", code, scan.Eligible)
	}
	// The days from the scan's to now's (one but at midnight).
	from, to, month := before.Format(time.DateOnly), time.Now().UTC().Format(time.DateOnly), before.Format("2006-01")
	deadline := time.Now().Add(30 * time.Second)
	for {
		var rep struct {
			Rows []struct {
				RelayPoint string `json:"relay_point"`
				Reason     string `json:"reason"`
				Refusals   int    `json:"refusals"`
			} `json:"rows"`
		}
		if code := operator.do("GET", "/v1/reports/refusals?from="+from+"&to="+to, nil, &rep); code != http.StatusOK {
			t.Fatalf("refusals report: status %d", code)
		}
		if len(rep.Rows) > 0 {
			if len(rep.Rows) != 1 || rep.Rows[0].RelayPoint != "term-refusals-e2e" || rep.Rows[0].Reason != "UNKNOWN_FORMAT" || rep.Rows[0].Refusals != 1 {
				t.Fatalf("refusals report: %+v, want term-refusals-e2e UNKNOWN_FORMAT 1", rep.Rows)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refused scan never reached the cloud's refusals report")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var st struct {
		Refusals int `json:"refusals"`
	}
	if code := operator.do("GET", "/v1/relay-points/term-refusals-e2e/statement?month="+month, nil, &st); code != http.StatusOK || st.Refusals != 1 {
		t.Errorf("statement: status %d refusals %d, want 1", code, st.Refusals)
	}
}
