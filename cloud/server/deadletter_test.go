package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/server"
	"github.com/comptoir/comptoir/sync/wire"
)

// deadLetterPage is the answer of GET /v1/dead-letters.
type deadLetterPage struct {
	DeadLetters []cloud.DeadLetter `json:"dead_letters"`
	Next        string             `json:"next"`
}

// allDeadLetters pages through GET /v1/dead-letters with pages of limit.
func allDeadLetters(t *testing.T, m *server.Main, limit int) []cloud.DeadLetter {
	t.Helper()
	_, operator, _ := m.Demo()
	var all []cloud.DeadLetter
	after := ""
	for range 1000 {
		var p deadLetterPage
		if st := call(t, "GET", fmt.Sprintf("%s/v1/dead-letters?limit=%d&after=%s", m.HTTPURL(), limit, after), operator, nil, &p); st != 200 || len(p.DeadLetters) > limit {
			t.Fatalf("GET /v1/dead-letters: %d, %d dead letters for a limit of %d", st, len(p.DeadLetters), limit)
		}
		all = append(all, p.DeadLetters...)
		if p.Next == "" {
			return all
		}
		after = p.Next
	}
	t.Fatal("the dead letters' pages never end")
	return nil
}

func ofTerminal(ds []cloud.DeadLetter, tid string) []cloud.DeadLetter {
	var out []cloud.DeadLetter
	for _, d := range ds {
		if d.Terminal == tid {
			out = append(out, d)
		}
	}
	return out
}

// TestDeadLettersBounded: thirty messages of 510 KB (over the batch limit:
// TOO_LARGE) are kept cut to 4 KiB with their size and hash, and the
// listing of all of them stays under 200 KB; a terminal's dead letters
// beyond the cap (here 30) drop the oldest.
func TestDeadLettersBounded(t *testing.T) {
	m := MustRun(t, t.TempDir(), "--dead-letters-per-terminal", "30")
	_, operator, _ := m.Demo()
	e, _ := enrol(t, m, "shop-big")
	big := connectTerminal(t, e)
	payload := bytes.Repeat([]byte("Z"), 510_000)
	for range 30 {
		big.publish(t, "shop-big", payload)
	}
	e2, _ := enrol(t, m, "shop-bad")
	bad := connectTerminal(t, e2)
	for i := range 33 {
		bad.publish(t, "shop-bad", []byte(fmt.Sprintf("{bad %02d", i)))
	}
	var all []cloud.DeadLetter
	eventually(t, func() bool {
		all = allDeadLetters(t, m, 7)
		last := ofTerminal(all, "shop-bad")
		return len(ofTerminal(all, "shop-big")) == 30 && len(last) == 30 && string(last[29].Payload) == "{bad 32"
	})
	sum := sha256.Sum256(payload)
	for _, d := range ofTerminal(all, "shop-big") {
		if d.Reason != wire.ErrTooLarge || d.Size != len(payload) || !d.Truncated || len(d.Payload) != cloud.MaxDeadLetterPayload || d.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("large dead letter: reason %s, size %d, truncated %v, %d bytes kept, sha %s", d.Reason, d.Size, d.Truncated, len(d.Payload), d.SHA256)
		}
	}
	if first := ofTerminal(all, "shop-bad")[0]; string(first.Payload) != "{bad 03" || first.Reason != wire.ErrMalformed {
		t.Fatalf("oldest kept of shop-bad = %q %s; want {bad 03 (the three oldest dropped)", first.Payload, first.Reason)
	}

	req, _ := http.NewRequest("GET", m.HTTPURL()+"/v1/dead-letters?limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+operator)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) >= 200_000 || !bytes.Contains(body, []byte(`"next":""`)) {
		t.Fatalf("listing of 60 dead letters: %d, %d bytes; want 200 and under 200 KB in one page", resp.StatusCode, len(body))
	}
	t.Logf("listing of 60 dead letters (30 of 510 KB): %d bytes", len(body))
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "after=zz"} {
		if st := call(t, "GET", m.HTTPURL()+"/v1/dead-letters?"+q, operator, nil, nil); st != http.StatusBadRequest {
			t.Fatalf("GET /v1/dead-letters?%s: %d, want 400", q, st)
		}
	}
}
