package server_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/server"
	"github.com/comptoir/comptoir/edge"
)

// terminalView is the part of GET /v1/terminals/{tid} these tests read.
type terminalView struct {
	ID                 string     `json:"id"`
	Online             bool       `json:"online"`
	DecommissionedAt   *time.Time `json:"decommissioned_at"`
	DecommissionReason string     `json:"decommission_reason"`
	ReceiptKeys        []struct {
		PublicKey string    `json:"public_key"`
		From      time.Time `json:"from"`
		Until     time.Time `json:"until"`
	} `json:"receipt_keys"`
}

// watchedTerminal connects as the terminal of e and returns a channel
// closed when the broker drops the connection.
func watchedTerminal(t *testing.T, e enrolment) (*terminal, <-chan struct{}) {
	t.Helper()
	lost := make(chan struct{})
	return connectTerminalWith(t, e, func() { close(lost) }), lost
}

// connects reports whether the broker admits the terminal of e with
// password.
func connects(e enrolment, password string) bool {
	c := paho.NewClient(paho.NewClientOptions().AddBroker(e.MQTT.URL).SetClientID(e.MQTT.Username).
		SetUsername(e.MQTT.Username).SetPassword(password).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second))
	tok := c.Connect()
	if tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
		c.Disconnect(0)
		return true
	}
	return false
}

// awaitClosed waits for ch to be closed, failing after 15 s.
func awaitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(15 * time.Second):
		t.Fatalf("%s: did not happen", what)
	}
}

// checkDecommission runs the decommissioning story against a running
// cloud: a connected terminal is decommissioned, its connection drops and
// its password no longer works; enrolled again, it gets new credentials
// that work.
func checkDecommission(t *testing.T, m *server.Main, tid string) {
	_, operator, _ := m.Demo()
	e, k1 := enrol(t, m, tid)
	term, lost := watchedTerminal(t, e)
	term.publish(t, tid, batch(tid, op(tid, 1, edge.OpReturnRefused, "")))
	if got := term.ack(t); got != "[[1 1]]" {
		t.Fatalf("ack = %s, want [[1 1]]", got)
	}

	inService := fleetCount(t, m)
	url := m.HTTPURL() + "/v1/terminals/" + tid + "/decommission"
	for _, body := range []any{map[string]string{"reason": "  "}, map[string]any{"reason": "x", "extra": 1}, "stolen"} {
		if st := call(t, "POST", url, operator, body, nil); st != http.StatusBadRequest {
			t.Fatalf("decommission with body %v: %d, want 400", body, st)
		}
	}
	if !term.c.IsConnectionOpen() {
		t.Fatal("a refused decommissioning dropped the terminal")
	}
	before := time.Now()
	var v terminalView
	if st := call(t, "POST", url, operator, map[string]string{"reason": "stolen from the shop"}, &v); st != http.StatusOK {
		t.Fatalf("decommission: %d %+v", st, v)
	}
	if v.ID != tid || v.DecommissionedAt == nil || v.DecommissionedAt.Before(before.Add(-time.Second)) || v.DecommissionReason != "stolen from the shop" || v.Online {
		t.Fatalf("decommissioned view = %+v", v)
	}
	awaitClosed(t, lost, "the decommissioned terminal's connection dropped")
	if got := fleetCount(t, m); got != inService-1 {
		t.Fatalf("terminals in the fleet metrics after decommissioning: %d, want %d", got, inService-1)
	}
	if connects(e, e.MQTT.Password) {
		t.Fatal("the decommissioned terminal connected again with its old password")
	}
	var list struct{ Terminals []terminalView }
	if st := call(t, "GET", m.HTTPURL()+"/v1/terminals", operator, nil, &list); st != 200 || len(list.Terminals) != 1 ||
		list.Terminals[0].DecommissionedAt == nil || list.Terminals[0].DecommissionReason != "stolen from the shop" {
		t.Fatalf("GET /v1/terminals = %d %+v", st, list)
	}
	signedBefore := receipt(t, k1, "CP000000001FR", v.DecommissionedAt.Add(-time.Minute))
	checkReceipt(t, m, signedBefore, true, "")
	checkReceipt(t, m, receipt(t, k1, "CP000000001FR", v.DecommissionedAt.Add(2*time.Second)), false, cloud.ReceiptDecommissioned)
	if st := call(t, "POST", url, operator, map[string]string{"reason": "again"}, nil); st != http.StatusConflict {
		t.Fatalf("decommission twice: %d, want 409", st)
	}
	if st := call(t, "POST", m.HTTPURL()+"/v1/terminals/nobody-here/decommission", operator, map[string]string{"reason": "x"}, nil); st != http.StatusNotFound {
		t.Fatalf("decommission unknown terminal: %d, want 404", st)
	}

	e2, k2 := enrol(t, m, tid)
	if e2.MQTT.Password == e.MQTT.Password || e2.MQTT.Password == "" {
		t.Fatal("re-enrolment gave the same password")
	}
	if connects(e, e.MQTT.Password) {
		t.Fatal("the old password works after re-enrolment")
	}
	term2, _ := watchedTerminal(t, e2)
	term2.publish(t, tid, batch(tid, op(tid, 2, edge.OpReturnRefused, "")))
	if got := term2.ack(t); got != "[[2 2]]" {
		t.Fatalf("ack after re-enrolment = %s, want [[2 2]]", got)
	}
	if st := call(t, "GET", m.HTTPURL()+"/v1/terminals/"+tid, operator, nil, &v); st != 200 || v.DecommissionedAt != nil || len(v.ReceiptKeys) != 2 ||
		v.ReceiptKeys[0].PublicKey == v.ReceiptKeys[1].PublicKey || v.ReceiptKeys[1].Until.IsZero() {
		t.Fatalf("re-enrolled view = %d %+v", st, v)
	}
	checkReceipt(t, m, signedBefore, true, "")
	checkReceipt(t, m, receipt(t, k2, "CP000000002FR", time.Now()), true, "")
	if got := fleetCount(t, m); got != inService {
		t.Fatalf("terminals in the fleet metrics after re-enrolment: %d, want %d", got, inService)
	}
	if st := call(t, "POST", m.HTTPURL()+"/v1/terminals", operator, map[string]string{"id": tid, "receipt_public_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, nil); st != http.StatusConflict {
		t.Fatalf("enrol a terminal in service: %d, want 409", st)
	}
}

// TestDecommission: on the embedded broker.
func TestDecommission(t *testing.T) {
	checkDecommission(t, MustRun(t, t.TempDir()), "shop-dec")
}

// TestDecommissionDynsec: on Mosquitto with dynamic security, the account
// is deleted, which kicks the terminal.
func TestDecommissionDynsec(t *testing.T) {
	checkDecommission(t, runDynsecCloud(t, dynsecMosquitto(t)), "shop-dyn-dec")
}

// fleetCount returns the terminals in service that the fleet metrics
// count, online and offline.
func fleetCount(t *testing.T, m *server.Main) int {
	t.Helper()
	n := 0
	for _, state := range []string{"online", "offline"} {
		v, err := strconv.Atoi(metric(t, m, `comptoir_fleet_terminals{state="`+state+`"}`))
		if err != nil {
			t.Fatalf("comptoir_fleet_terminals{state=%q}: %v", state, err)
		}
		n += v
	}
	return n
}
