package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/server"
	"github.com/comptoir/comptoir/edge"
)

// feedPage is an answer of GET /v1/events.
type feedPage struct {
	Events []cloud.Event `json:"events"`
	Next   string        `json:"next"`
}

// readFeed follows the feed of key from its start, limit events a page.
func readFeed(tb testing.TB, m *server.Main, key, limit string) []cloud.Event {
	tb.Helper()
	var all []cloud.Event
	after := ""
	for {
		var p feedPage
		if st := call(tb, "GET", m.HTTPURL()+"/v1/events?limit="+limit+"&after="+after, key, nil, &p); st != 200 {
			tb.Fatalf("feed: status %d", st)
		}
		if len(p.Events) == 0 {
			if p.Next != after && after != "" {
				tb.Fatalf("an empty page moved the cursor from %q to %q", after, p.Next)
			}
			return all
		}
		all, after = append(all, p.Events...), p.Next
	}
}

func types(evs []cloud.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Type+":"+e.Tracking)
	}
	return strings.Join(s, ",")
}

// TestEventFeed: a return's creation and its deposit over MQTT reach its
// merchant's feed with their data, page by page; another merchant's feed
// has none of them; operators read every merchant's.
func TestEventFeed(t *testing.T) {
	m := MustRun(t, t.TempDir())
	_, operator, partner := m.Demo()
	acme, bolt := createMerchant(t, m, "acme"), createMerchant(t, m, "bolt")
	_, a := createReturn(t, m, acme, nil)
	_, b := createReturn(t, m, bolt, nil)
	e1, _ := enrol(t, m, "shop-1")
	t1 := connectTerminal(t, e1)
	dep := op("shop-1", 1, edge.OpReturnDeposited, a.Tracking)
	dep.Data, _ = json.Marshal(edge.DepositData{RAID: a.RAID, Verified: true, ReceiptID: "rcpt-9"})
	t1.publish(t, "shop-1", batch("shop-1", dep))
	if got := t1.ack(t); got != "[[1 1]]" {
		t.Fatalf("ack = %s", got)
	}

	got := readFeed(t, m, acme, "1")
	if want := "return.created:" + a.Tracking + ",return.deposited:" + a.Tracking; types(got) != want {
		t.Fatalf("acme's feed = %s, want %s", types(got), want)
	}
	d := got[1]
	if d.ID != dep.ID || d.Data.RAID != a.RAID || d.Data.RelayPoint != "shop-1" || d.Data.ReceiptID != "rcpt-9" || !d.OccurredAt.Equal(dep.OccurredAt) {
		t.Fatalf("deposit event = %+v", d)
	}
	if got := types(readFeed(t, m, bolt, "100")); got != "return.created:"+b.Tracking {
		t.Fatalf("bolt's feed = %s", got)
	}
	all := types(readFeed(t, m, operator, "2"))
	for _, want := range []string{"return.created:" + a.Tracking, "return.created:" + b.Tracking, "return.deposited:" + a.Tracking} {
		if !strings.Contains(all, want) {
			t.Errorf("operator's feed %s lacks %s", all, want)
		}
	}
	for _, tt := range []struct {
		key, query string
		want       int
	}{
		{acme, "?after=x", http.StatusBadRequest},
		{acme, "?limit=0", http.StatusBadRequest},
		{acme, "?limit=1001", http.StatusBadRequest},
		{acme, "?limit=ten", http.StatusBadRequest},
		{partner, "", http.StatusForbidden},
		{"", "", http.StatusUnauthorized},
	} {
		if st := call(t, "GET", m.HTTPURL()+"/v1/events"+tt.query, tt.key, nil, nil); st != tt.want {
			t.Errorf("GET /v1/events%s: %d, want %d", tt.query, st, tt.want)
		}
	}
}
