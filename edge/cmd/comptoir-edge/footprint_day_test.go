package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/edge/journal"
)

// Footprint scenarios of the agent under work, on the amd64 binary (peak
// RSS, VmHWM, MB): a counter's day and a bulk backlog drained.

// footDay is a busy day at a connected counter through the HTTP API:
// deposits with their label and receipt printed (spool printers), a
// handover of the whole shelf every 100 deposits.
func footDay(b *testing.B, a *agent, deposits int) {
	b.Helper()
	c := newClient(b, a.url)
	if code := c.do("POST", "/api/session", map[string]string{"pin": "1234"}, nil); code != http.StatusCreated {
		b.Fatalf("sign in: %d", code)
	}
	for n := range deposits {
		if code := c.do("POST", "/api/deposits", map[string]any{"code": s10(200000 + n), "weight_g": 800}, nil); code != http.StatusCreated {
			b.Fatalf("deposit %d: %d", n, code)
		}
		if n%100 == 99 {
			var body []byte
			if code := c.do("POST", "/api/handovers", map[string]any{"all": true}, &body); code != http.StatusCreated && code != http.StatusOK {
				b.Fatalf("handover after deposit %d: %d %s", n, code, body)
			}
		}
	}
	waitDrained(b, c)
}

// waitDrained waits until the agent's outbox is empty (synced and acked).
func waitDrained(b *testing.B, c *client) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var st struct {
			Pending int `json:"outbox_pending"`
		}
		if code := c.do("GET", "/api/status", nil, &st); code == http.StatusOK && st.Pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("outbox not drained within 5 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fillBacklog appends n deposits with their print jobs to the journal of
// the stopped agent in dir (encrypted with its --demo key), from 4 writers,
// as a terminal offline for a long time would hold them.
func fillBacklog(b *testing.B, dir, tid string, n int) {
	b.Helper()
	key, err := journalKey(dir, "", true, nil)
	if err != nil {
		b.Fatal(err)
	}
	j, err := journal.Open(journalDir(dir), journal.Config{Terminal: tid, EncryptionKey: key.key})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				tr := fmt.Sprintf("BK%07dFR", i)
				op := edge.NewOperation(edge.OpReturnDeposited, time.Now(), "clerk", tr, edge.DepositData{
					Carrier: "colis", Mode: "prelabelled", WeightG: 800, ReceiptID: "r-" + tr, ShelfSlot: "A1",
				})
				if _, err := j.Append(context.Background(), op); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
