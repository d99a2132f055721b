package storetest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

func addDeadLetter(t *testing.T, s cloud.Store, tid, reason string, payload []byte, at time.Time) {
	t.Helper()
	if err := s.AddDeadLetter(context.Background(), cloud.NewDeadLetter(tid, "comptoir/v1/terminals/"+tid+"/events", reason, "refused", payload, at)); err != nil {
		t.Fatal(err)
	}
}

// reasons lists the reasons of dead letters, in order.
func reasons(ds []cloud.DeadLetter) string {
	var b bytes.Buffer
	for _, d := range ds {
		fmt.Fprintf(&b, "%s ", d.Reason)
	}
	return b.String()
}

// testDeadLetterPages stores 5 dead letters and reads them back in pages
// of 2: oldest first, every one once, with what NewDeadLetter recorded.
func testDeadLetterPages(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	big := bytes.Repeat([]byte("x"), cloud.MaxDeadLetterPayload+10)
	for i := range 5 {
		payload := []byte("small")
		if i == 1 {
			payload = big
		}
		addDeadLetter(t, s, "t-1", fmt.Sprintf("R%d", i), payload, t0.Add(time.Duration(i)*time.Second))
	}
	var got []cloud.DeadLetter
	after := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatalf("more than 3 pages of 2 for 5 dead letters: %s", reasons(got))
		}
		page, next, err := s.DeadLetters(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 2 || (next != "" && (len(page) == 0 || next != page[len(page)-1].ID)) {
			t.Fatalf("page after %q = %s next %q", after, reasons(page), next)
		}
		got = append(got, page...)
		if next == "" {
			break
		}
		after = next
	}
	if r := reasons(got); r != "R0 R1 R2 R3 R4 " {
		t.Fatalf("pages = %s, want R0 to R4 once each, oldest first", r)
	}
	d := got[1]
	if d.Size != len(big) || !d.Truncated || len(d.Payload) != cloud.MaxDeadLetterPayload || len(d.SHA256) != 64 || d.Terminal != "t-1" || !d.At.Equal(t0.Add(time.Second)) {
		t.Fatalf("large dead letter = size %d, truncated %v, %d bytes kept, sha %q", d.Size, d.Truncated, len(d.Payload), d.SHA256)
	}
	if d := got[0]; d.Size != 5 || d.Truncated || string(d.Payload) != "small" {
		t.Fatalf("small dead letter = %+v", d)
	}
	if _, _, err := s.DeadLetters(ctx, "not-a-cursor", 2); edge.ErrorCode(err) != edge.EINVALID {
		t.Fatalf("bad cursor: %v, want INVALID", err)
	}
}

// testDeadLetterPrune caps the dead letters of one terminal and drops
// those past the age limit, of every terminal.
func testDeadLetterPrune(t *testing.T, s cloud.Store) {
	ctx := context.Background()
	for i := range 6 {
		addDeadLetter(t, s, "t-1", fmt.Sprintf("A%d", i), []byte("x"), t0.Add(time.Duration(i)*time.Minute))
		addDeadLetter(t, s, "t-2", fmt.Sprintf("B%d", i), []byte("x"), t0.Add(time.Duration(i)*time.Minute+time.Second))
	}
	n, err := s.PruneDeadLetters(ctx, "t-1", 3, t0)
	if err != nil || n != 3 {
		t.Fatalf("prune t-1 to 3 = %d, %v; want 3 removed", n, err)
	}
	page, _, err := s.DeadLetters(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if r := reasons(page); r != "B0 B1 B2 A3 B3 A4 B4 A5 B5 " {
		t.Fatalf("after the cap = %s", r)
	}
	// Older than 3 min 30 s: A3, B0 to B3 go, of both terminals.
	if n, err := s.PruneDeadLetters(ctx, "t-1", 3, t0.Add(3*time.Minute+30*time.Second)); err != nil || n != 5 {
		t.Fatalf("prune by age = %d, %v; want 5 removed", n, err)
	}
	page, _, err = s.DeadLetters(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if r := reasons(page); r != "A4 B4 A5 B5 " {
		t.Fatalf("after the age limit = %s", r)
	}
	if n, err := s.PruneDeadLetters(ctx, "t-1", 3, t0); err != nil || n != 0 {
		t.Fatalf("prune again = %d, %v; want nothing removed", n, err)
	}
}
