package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv/powerfs"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
	"github.com/comptoir/comptoir/ui"
	"golang.org/x/crypto/bcrypt"
)

// TestMain serves the power-loss file system when the test binary is run
// again for that (powerfs.Mount), and runs the tests otherwise, with PINs
// hashed at bcrypt's least cost in this process (the agents the tests
// start as processes keep ui.PINCost; TestPIN checks it).
func TestMain(m *testing.M) {
	powerfs.Serve()
	pinHasher = ui.NewPINHasher(bcrypt.MinCost)
	os.Exit(m.Run())
}

// TestAgentPowerCut is the power-loss test through the agent's real start
// path: the comptoir-edge binary runs with its data directory on a file
// system that drops, at each power cut, everything not yet synced
// (build/testenv/powerfs). Clerks make deposits over HTTP from several
// connections, the power is cut at a random moment, the agent is killed,
// the file system comes back with only what was durable, and the agent is
// started again on it: it must come up ready, list every deposit whose
// POST answered 201, and take a new one. Several cuts in a row on the same
// data directory.
func TestAgentPowerCut(t *testing.T) {
	if testing.Short() {
		t.Skip("agent power-cut test builds the agent and runs it on a FUSE file system; skipped in -short mode")
	}
	p := powerfs.Mount(t)
	bindir := t.TempDir()
	crossBuild(t, runtime.GOARCH, bindir, "./edge/cmd/comptoir-edge")
	argv := []string{filepath.Join(bindir, "comptoir-edge")}

	dir := filepath.Join(p.Dir, "terminal")
	issuer, _ := token.GenerateKey("issuer-t-powercut")
	trust := token.NewTrustList()
	trust.AddKey(issuer.ID, issuer.Public())
	offlineTerminal(t, dir, "t-powercut", trust)

	var serial atomic.Int64
	serial.Store(700000)
	taken := map[string]bool{} // trackings whose POST answered 201
	var cuts, posted, refused, recovered int
	a := startAgent(t, argv, dir)
	for round := range 5 {
		c := newClient(t, a.url)
		if code := c.do("POST", "/api/session", map[string]string{"pin": "1234"}, nil); code != http.StatusCreated {
			t.Fatalf("round %d: sign in: %d", round, code)
		}
		// Three clerks' connections deposit until the power goes.
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				for {
					tracking := s10(int(serial.Add(1)))
					code, err := postDeposit(c.http, a.url, tracking)
					mu.Lock()
					posted++
					switch {
					case err == nil && code == http.StatusCreated:
						taken[tracking] = true
					case err == nil && code < http.StatusInternalServerError:
						t.Errorf("round %d: deposit %s answered %d before the cut", round, tracking, code)
					default:
						refused++
					}
					mu.Unlock()
					if err != nil || code != http.StatusCreated {
						return
					}
				}
			})
		}
		time.Sleep(time.Duration(50+rand.IntN(700)) * time.Millisecond)
		if err := p.Cut(); err != nil {
			t.Fatal(err)
		}
		cuts++
		a.cmd.Process.Kill()
		a.cmd.Wait()
		wg.Wait()
		if err := p.Restart(); err != nil {
			t.Fatalf("round %d: remount after the cut: %v", round, err)
		}
		if t.Failed() {
			return
		}

		a = startAgent(t, argv, dir)
		c = newClient(t, a.url)
		if code := c.do("POST", "/api/session", map[string]string{"pin": "1234"}, nil); code != http.StatusCreated {
			t.Fatalf("round %d: sign in after the cut: %d", round, code)
		}
		listed := listedDeposits(t, c)
		for tr := range taken {
			if !listed[tr] {
				t.Errorf("round %d: deposit %s answered 201 before the cut but is not listed after it", round, tr)
			}
		}
		recovered = len(listed)
		var st struct {
			JournalDamaged bool `json:"journal_damaged"`
		}
		if code := c.do("GET", "/api/status", nil, &st); code != http.StatusOK {
			t.Fatalf("round %d: status: %d", round, code)
		}
		if st.JournalDamaged {
			t.Errorf("round %d: the journal was set aside as damaged after the cut", round)
		}
		tracking := s10(int(serial.Add(1)))
		if code := c.do("POST", "/api/deposits", map[string]any{"code": tracking, "weight_g": 500}, nil); code != http.StatusCreated {
			t.Fatalf("round %d: deposit after the cut: %d", round, code)
		}
		taken[tracking] = true
		// Hand the shelf over, so that the next round has room on it.
		var body []byte
		if code := c.do("POST", "/api/handovers", map[string]any{"all": true}, &body); code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("round %d: handover: %d %s", round, code, body)
		}
		if t.Failed() {
			return
		}
	}
	st, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d power cuts; the clerks posted %d deposits, %d answered 201 and %d were failed by the cuts; %d more after the restarts; %d deposits listed after the last restart; the file system saw %d writes, %d file syncs, %d directory syncs; the cuts dropped %d unsynced pages and %d directory entries",
		cuts, posted, posted-refused, refused, cuts, recovered, st.Writes, st.Syncs, st.DirSyncs, st.LostPages, st.LostEntries)
	if len(taken) <= cuts {
		t.Error("no deposit was taken between the cuts: the test cut before anything happened")
	}
	if st.LostPages == 0 {
		t.Error("no cut dropped anything: the power-loss file system did not work")
	}
}

// postDeposit posts a deposit of tracking and returns the status, or the
// error of a request the power cut broke.
func postDeposit(hc *http.Client, base, tracking string) (int, error) {
	body, _ := json.Marshal(map[string]any{"code": tracking, "weight_g": 500})
	resp, err := hc.Post(base+"/api/deposits", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// listedDeposits returns the trackings of every deposit in the history.
func listedDeposits(t *testing.T, c *client) map[string]bool {
	t.Helper()
	listed := map[string]bool{}
	for after := uint64(0); ; {
		var page edge.HistoryPage
		path := fmt.Sprintf("/api/operations?type=%s&limit=%d&after=%d", edge.OpReturnDeposited, edge.MaxHistoryPage, after)
		if code := c.do("GET", path, nil, &page); code != http.StatusOK {
			t.Fatalf("history: %d", code)
		}
		for _, op := range page.Operations {
			listed[op.Tracking] = true
		}
		if page.Next == 0 {
			return listed
		}
		after = page.Next
	}
}
