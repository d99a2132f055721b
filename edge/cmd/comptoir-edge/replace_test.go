package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestReplacementDevice: a terminal's device is replaced (the old one
// decommissioned, a new one enrolled under the same id with an empty
// journal). The cloud already holds the old device's seqs; the new device
// numbers its operations above them, so that its first deposit is not
// taken for a resend of the old one's and reaches the timeline.
func TestReplacementDevice(t *testing.T) {
	cloud, issuer, operator := startCloud(t, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0")
	defer cloud.Close()
	deposit := func(kiosk *client) string {
		t.Helper()
		ra := createReturn(t, issuer)
		var dep depositResult
		if code := kiosk.do("POST", "/api/deposits", map[string]any{"code": ra.Token, "weight_g": 1200}, &dep); code != http.StatusCreated {
			t.Fatalf("deposit: status %d", code)
		}
		return ra.Tracking
	}

	old, kiosk := enrolledTerminal(t, cloud, operator, "term-replaced", "Relais")
	for range 3 {
		waitForStatus(t, issuer, deposit(kiosk), "deposited")
	}
	old.Close()
	if code := operator.do("POST", "/v1/terminals/term-replaced/decommission", map[string]string{"reason": "stolen"}, nil); code != http.StatusOK {
		t.Fatalf("decommission: %d", code)
	}

	dir := t.TempDir()
	e, err := Enroll(context.Background(), cloud.HTTPURL(), operator.key, "term-replaced", "Relais", dir)
	if err != nil {
		t.Fatal(err)
	}
	if e.SeqFloor != 3 {
		t.Errorf("enrolment's seq floor = %d, want 3 (the old device's last)", e.SeqFloor)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, enrollmentFile))
	var saved Enrollment
	if err := json.Unmarshal(raw, &saved); err != nil || saved.SeqFloor != 3 {
		t.Errorf("enrollment.json keeps seq floor %d, %v; want 3", saved.SeqFloor, err)
	}
	_, kiosk = startTerminal(t, dir)
	tl := waitForStatus(t, issuer, deposit(kiosk), "deposited")
	if count(tl, "deposited") != 1 {
		t.Errorf("timeline of the new device's deposit: %+v", tl)
	}
}
