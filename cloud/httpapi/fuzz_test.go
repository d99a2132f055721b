package httpapi_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/comptoir/comptoir/cloud"
)

// FuzzPartnerEvents posts arbitrary bodies to POST /v1/events: the answer
// is 200 with counts, or a coded 4xx error that changed nothing; never a
// 5xx, never a timeline entry from a refused batch.
func FuzzPartnerEvents(f *testing.F) {
	for _, seed := range []string{
		`{"events":[{"id":"e1","tracking":"TRK","status":"in_transit","occurred_at":"2026-12-04T10:00:00Z"}]}`,
		`{"events":[]}`, `{"events":null}`, `{}`, `[]`, `null`, ``, `{"events":[{}]}`,
		`{"events":[{"id":"e","tracking":"a/b","status":"refunded","occurred_at":"0001-01-01T00:00:00Z"}]}`,
		`{"events":[{"id":"e","tracking":"T","status":"deposited","occurred_at":"2026-12-04T10:00:00Z"}]} x`,
		`{"events":[{"id":"e","tracking":"T\u0000","status":"in_transit","occurred_at":"9999-12-31T23:59:59Z","location":"\u202e"}]}`,
	} {
		f.Add(seed)
	}
	s := MustServer(f)
	c := mustCreate(f, s, `{"items":[{"sku":"A1"}]}`)
	handOver(f, s, "t-fuzz", c.Tracking)
	before, err := s.Store.Timeline(context.Background(), cloud.Network, c.Tracking)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := do(t, s, "POST", "/v1/events", partnerKey, body)
		switch {
		case r.status >= 500:
			t.Fatalf("%q: %d %s", body, r.status, r.body)
		case r.status != 200 && r.errCode() == "":
			t.Fatalf("%q: %d with no error code: %s", body, r.status, r.body)
		case r.status != 200:
			tl, err := s.Store.Timeline(context.Background(), cloud.Network, c.Tracking)
			if err != nil || len(tl) < len(before) {
				t.Fatalf("timeline after a refused batch: %v, %v", tl, err)
			}
			// Refused as a whole: nothing of it may be on the timeline.
			var req struct {
				Events []struct {
					ID string `json:"id"`
				} `json:"events"`
			}
			if json.Unmarshal([]byte(body), &req) == nil {
				for _, e := range tl {
					for _, ev := range req.Events {
						if ev.ID != "" && e.EventID == ev.ID && e.Source == cloud.SourcePartner && !seen(before, ev.ID) {
							t.Fatalf("%q: refused with %d but %s is on the timeline", body, r.status, ev.ID)
						}
					}
				}
			}
		}
		before, _ = s.Store.Timeline(context.Background(), cloud.Network, c.Tracking)
	})
}

func seen(tl []cloud.TimelineEntry, id string) bool {
	for _, e := range tl {
		if e.EventID == id {
			return true
		}
	}
	return false
}

// FuzzCreateMerchant posts arbitrary bodies to POST /v1/merchants: 201
// with a merchant that then exists, or a coded 4xx and no new merchant.
func FuzzCreateMerchant(f *testing.F) {
	for _, seed := range []string{
		`{"id":"acme2","name":"ACME"}`, `{"id":"A"}`, `{"id":"x"}`, `{"id":"ok-id","name":"\u0007bell"}`,
		`{}`, `[]`, ``, `{"id":"` + string(make([]byte, 70)) + `"}`, `{"id":"dup"} {}`, `{"id":12}`,
	} {
		f.Add(seed)
	}
	s := MustServer(f)
	f.Fuzz(func(t *testing.T, body string) {
		ctx := context.Background()
		n0, err := s.Store.Merchants(ctx, cloud.Network)
		if err != nil {
			t.Fatal(err)
		}
		r := do(t, s, "POST", "/v1/merchants", operatorKey, body)
		n1, _ := s.Store.Merchants(ctx, cloud.Network)
		switch {
		case r.status == 201:
			var m struct {
				Merchant string `json:"merchant"`
			}
			r.decode(t, &m)
			if _, err := s.Store.FindMerchant(ctx, cloud.Network, m.Merchant); err != nil || len(n1) != len(n0)+1 {
				t.Fatalf("%q: 201 but merchant %q: %v", body, m.Merchant, err)
			}
		case r.status >= 500 || r.errCode() == "":
			t.Fatalf("%q: %d %s", body, r.status, r.body)
		case len(n1) != len(n0):
			t.Fatalf("%q: refused with %d but merchants went from %d to %d", body, r.status, len(n0), len(n1))
		}
	})
}
