package main

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// statuses returns the statuses of a timeline, in its order.
func statuses(tl []timelineEntry) []string {
	var out []string
	for _, e := range tl {
		out = append(out, e.Status)
	}
	return out
}

// postPartnerEvents posts events of a carrier or warehouse and returns the
// counts of added and duplicate ones.
func postPartnerEvents(t *testing.T, partner *client, events []map[string]any) (added, dups int) {
	t.Helper()
	var res struct {
		Added      int `json:"added"`
		Duplicates int `json:"duplicates"`
	}
	if code := partner.do("POST", "/v1/events", map[string]any{"events": events}, &res); code != http.StatusOK {
		t.Fatalf("partner events: status %d", code)
	}
	return res.Added, res.Duplicates
}

// TestEndToEndLifecycle: a parcel is created, deposited at a relay point,
// handed to the carrier, then carried, received and refunded as the
// carrier's and warehouse's events come in; another deposit is cancelled.
// Both timelines are checked in order, and partner events are idempotent.
func TestEndToEndLifecycle(t *testing.T) {
	cloud, issuer, operator := startCloud(t, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0")
	defer cloud.Close()
	partner := partnerClient(t, cloud)
	_, kiosk := enrolledTerminal(t, cloud, operator, "term-e2e-life", "Relais Cycle")

	ra, mistake := createReturn(t, issuer), createReturn(t, issuer)
	var dep, dep2 depositResult
	if code := kiosk.do("POST", "/api/deposits", map[string]any{"code": ra.Token, "weight_g": 1200}, &dep); code != http.StatusCreated {
		t.Fatalf("deposit: %d", code)
	}
	if code := kiosk.do("POST", "/api/deposits", map[string]any{"code": mistake.Token, "weight_g": 800}, &dep2); code != http.StatusCreated {
		t.Fatalf("second deposit: %d", code)
	}
	if code := kiosk.do("POST", "/api/deposits/"+dep2.Deposit.ID+"/cancel", map[string]string{"reason": "wrong parcel"}, nil); code != http.StatusOK {
		t.Fatalf("cancel: %d", code)
	}
	var h struct {
		Manifests []struct {
			Trackings []string `json:"trackings"`
		} `json:"manifests"`
	}
	if code := kiosk.do("POST", "/api/handovers", map[string]any{"all": true}, &h); code != http.StatusCreated || len(h.Manifests) != 1 || !slices.Equal(h.Manifests[0].Trackings, []string{ra.Tracking}) {
		t.Fatalf("handover: %d %+v", code, h)
	}
	waitForStatus(t, issuer, ra.Tracking, "handed_over")

	at := time.Now().UTC()
	events := []map[string]any{
		{"id": edge.NewID(), "tracking": ra.Tracking, "status": "in_transit", "occurred_at": at.Add(1 * time.Second), "location": "Hub Lyon"},
		{"id": edge.NewID(), "tracking": ra.Tracking, "status": "received_at_warehouse", "occurred_at": at.Add(2 * time.Second), "location": "Entrepôt"},
		{"id": edge.NewID(), "tracking": ra.Tracking, "status": "refunded", "occurred_at": at.Add(3 * time.Second)},
	}
	if added, dups := postPartnerEvents(t, partner, events); added != 3 || dups != 0 {
		t.Fatalf("partner events: added %d, duplicates %d; want 3, 0", added, dups)
	}
	// A carrier resending its events changes nothing.
	if added, dups := postPartnerEvents(t, partner, events); added != 0 || dups != 3 {
		t.Errorf("partner events resent: added %d, duplicates %d; want 0, 3", added, dups)
	}
	var e apiError
	if code := partner.do("POST", "/v1/events", map[string]any{"events": []map[string]any{
		{"id": edge.NewID(), "tracking": ra.Tracking, "status": "deposited", "occurred_at": at},
	}}, &e); code != http.StatusBadRequest {
		t.Errorf("a partner posting a terminal's status: %d, want 400", code)
	}
	if code := issuer.do("POST", "/v1/events", map[string]any{"events": events}, nil); code != http.StatusForbidden && code != http.StatusUnauthorized {
		t.Errorf("an issuer key posting partner events: %d, want 401 or 403", code)
	}

	tl := waitForStatus(t, issuer, ra.Tracking, "refunded")
	want := []string{"created", "deposited", "handed_over", "in_transit", "received_at_warehouse", "refunded"}
	if got := statuses(tl); !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
	tl = waitForStatus(t, issuer, mistake.Tracking, "cancelled")
	if got, want := statuses(tl), []string{"created", "deposited", "cancelled"}; !slices.Equal(got, want) {
		t.Errorf("timeline of the cancelled deposit %v, want %v", got, want)
	}
}

// TestEndToEndInstoreExchange: a customer brings a return back to a store,
// which grades the item and exchanges it; the store's system then reports
// the exchange.
func TestEndToEndInstoreExchange(t *testing.T) {
	cloud, issuer, operator := startCloud(t, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0")
	defer cloud.Close()
	partner := partnerClient(t, cloud)
	_, kiosk := enrolledTerminal(t, cloud, operator, "term-e2e-store", "Magasin")
	ra := createReturn(t, issuer)

	var e apiError
	code := kiosk.do("POST", "/api/instore-returns", map[string]any{"code": ra.Token, "resolution": "EXCHANGE",
		"items": []any{map[string]any{"sku": "SKU-42", "qty": 2, "condition": "NEW", "disposition": "RESTOCK"}}}, &e)
	if code != http.StatusUnprocessableEntity || e.Error.Code != edge.EQTYABOVERA {
		t.Errorf("two of an item the RA allows once: %d %s", code, e.Error.Code)
	}
	if code := kiosk.do("POST", "/api/instore-returns", map[string]any{"code": ra.Token, "resolution": "EXCHANGE",
		"items": []any{map[string]any{"sku": "SKU-42", "qty": 1, "condition": "OPENED", "disposition": "RESTOCK"}}}, nil); code != http.StatusCreated {
		t.Fatalf("in-store return: %d", code)
	}
	waitForStatus(t, issuer, ra.Tracking, "received_in_store")
	ev := []map[string]any{{"id": edge.NewID(), "tracking": ra.Tracking, "status": "exchanged", "occurred_at": time.Now().UTC().Add(time.Second), "location": "Magasin"}}
	if added, _ := postPartnerEvents(t, partner, ev); added != 1 {
		t.Fatalf("exchanged event not added")
	}
	tl := waitForStatus(t, issuer, ra.Tracking, "exchanged")
	if got, want := statuses(tl), []string{"created", "received_in_store", "exchanged"}; !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
}
