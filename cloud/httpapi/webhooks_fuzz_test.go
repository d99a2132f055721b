package httpapi_test

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/cloud"
)

// noDNS resolves nothing: tests make no DNS queries.
func noDNS(context.Context, string) ([]netip.Addr, error) { return nil, errors.New("no DNS in tests") }

// FuzzCreateWebhook posts arbitrary bodies to POST /v1/webhooks: 201 with
// a subscription that then exists, to an http(s) URL of a public address,
// or a coded 4xx and no new subscription; never a 5xx.
func FuzzCreateWebhook(f *testing.F) {
	for _, seed := range []string{
		`{"url":"https://93.184.216.34/hook","events":["*"]}`,
		`{"url":"https://93.184.216.34/hook","events":["return.deposited","parcel.refunded"]}`,
		`{"url":"http://127.0.0.1:9/hook","events":["*"]}`, `{"url":"https://[::ffff:10.0.0.1]/","events":["*"]}`,
		`{"url":"https://example.com/hook","events":["*"]}`, `{"url":"https://93.184.216.34/","events":[]}`,
		`{"url":"https://93.184.216.34/","events":["parcel.teleported"]}`, `{"url":"javascript:alert(1)","events":["*"]}`,
		`{"url":"https://u:p@93.184.216.34/","events":["*"]}`, `{}`, `[]`, ``, `null`, `{"url":12}`,
		`{"url":"https://93.184.216.34/","events":["*"]} {}`,
	} {
		f.Add(seed)
	}
	s := MustServer(f)
	count := func(t testing.TB) int {
		ws, err := s.Store.Webhooks(context.Background(), cloud.Network)
		if err != nil {
			t.Fatal(err)
		}
		return len(ws)
	}
	f.Fuzz(func(t *testing.T, body string) {
		n := count(t)
		if n >= cloud.MaxWebhooks-1 {
			ws, _ := s.Store.Webhooks(context.Background(), cloud.Network)
			for _, w := range ws {
				if err := s.Store.DeleteWebhook(context.Background(), cloud.Network, w.ID); err != nil {
					t.Fatal(err)
				}
			}
			n = 0
		}
		r := do(t, s, "POST", "/v1/webhooks", issuerKey, body)
		switch {
		case r.status >= 500:
			t.Fatalf("%q: %d %s", body, r.status, r.body)
		case r.status == 201:
			var w struct {
				cloud.Webhook
				Secret string `json:"secret"`
			}
			r.decode(t, &w)
			u, err := url.Parse(w.URL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || !strings.HasPrefix(w.Secret, "whsec_") || count(t) != n+1 {
				t.Fatalf("%q: created %+v", body, w)
			}
			if a, err := netip.ParseAddr(u.Hostname()); err != nil || !cloud.PublicAddr(a) {
				t.Fatalf("%q: created a webhook to %q", body, u.Hostname())
			}
		case r.errCode() == "":
			t.Fatalf("%q: %d with no error code: %s", body, r.status, r.body)
		case count(t) != n:
			t.Fatalf("%q: refused with %d but a subscription was made", body, r.status)
		}
	})
}

// FuzzEventsQuery reads GET /v1/events with arbitrary cursors and limits:
// 200 with at most limit events, or 400 INVALID; never a 5xx.
func FuzzEventsQuery(f *testing.F) {
	for _, seed := range [][2]string{{"", ""}, {"0", "1"}, {"18446744073709551615", "1000"}, {"-1", "0"}, {"x", "1001"}, {"9223372036854775808", "5"}} {
		f.Add(seed[0], seed[1])
	}
	s := MustServer(f)
	mustCreate(f, s, `{"items":[{"sku":"A1"}]}`)
	f.Fuzz(func(t *testing.T, after, limit string) {
		path := "/v1/events?after=" + url.QueryEscape(after) + "&limit=" + url.QueryEscape(limit)
		if len(path) > 3000 {
			// Over the server's 4 KiB header buffer: the HTTP layer refuses
			// the request line before any handler (found by this target:
			// app.Test reports it as an error rather than an answer).
			t.Skip("request line over the header buffer")
		}
		r := do(t, s, "GET", path, issuerKey, "")
		switch {
		case r.status == 200:
			var p struct {
				Events []cloud.Event `json:"events"`
				Next   string        `json:"next"`
			}
			r.decode(t, &p)
			next, err := strconv.ParseUint(p.Next, 10, 64)
			if err != nil {
				t.Fatalf("after=%q limit=%q: next cursor %q", after, limit, p.Next)
			}
			// The cursor never goes back: a page after the last position
			// is empty and answers that position.
			if a, err := strconv.ParseUint(after, 10, 64); err == nil && (next < a || (a >= next && len(p.Events) > 0)) {
				t.Fatalf("after=%q limit=%q: next %d with %d events", after, limit, next, len(p.Events))
			}
		case r.status != 400 || r.errCode() != "INVALID":
			t.Fatalf("after=%q limit=%q: %d %s", after, limit, r.status, r.body)
		}
	})
}

// FuzzReplayWebhook posts arbitrary bodies to POST
// /v1/webhooks/{id}/replay: 200 with a cursor no further than the last
// event, or a coded 4xx that leaves the subscription's cursor as it was.
func FuzzReplayWebhook(f *testing.F) {
	for _, seed := range []string{`{"after":""}`, `{"after":"1"}`, `{}`, ``, `{"after":"x"}`, `{"after":1}`,
		`{"after":"18446744073709551615"}`, `{"after":"-1"}`, `[]`, `{"after":"0"} {}`} {
		f.Add(seed)
	}
	s := MustServer(f)
	ctx := context.Background()
	w, _, err := s.Webhooks.Create(ctx, testMerchant, cloud.WebhookRequest{URL: "https://93.184.216.34/hook", Events: []string{"*"}})
	if err != nil {
		f.Fatal(err)
	}
	mustCreate(f, s, `{"items":[{"sku":"A1"}]}`)
	cursor := func(t *testing.T) uint64 {
		ws, err := s.Store.Webhooks(ctx, cloud.Network)
		if err != nil || len(ws) != 1 {
			t.Fatal(ws, err)
		}
		return ws[0].Cursor
	}
	f.Fuzz(func(t *testing.T, body string) {
		before := cursor(t)
		r := do(t, s, "POST", "/v1/webhooks/"+w.ID+"/replay", issuerKey, body)
		head, _ := s.Store.EventsHead(ctx)
		switch {
		case r.status == 200:
			if c := cursor(t); c > head {
				t.Fatalf("%q: cursor %d beyond the head %d", body, c, head)
			}
		case r.status >= 500 || r.errCode() == "":
			t.Fatalf("%q: %d %s", body, r.status, r.body)
		case cursor(t) != before:
			t.Fatalf("%q: refused with %d but the cursor moved", body, r.status)
		}
	})
}
