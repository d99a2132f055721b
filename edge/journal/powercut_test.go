package journal

import (
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv/powerfs"
)

// TestPowerCut is the crash test on a file system that loses, at each power
// cut, everything that was not synced (build/testenv/powerfs): a child
// appends from several writers and acks, the power is cut at a random
// moment, the child is killed, the file system comes back with only what
// was durable, and the journal must open with every append that returned,
// seqs gap-free and the outbox whole. Three phases: appends alone, appends
// while compaction deletes what was acked, and the conversion of a plain
// journal to encryption cut at a random moment from its start.
func TestPowerCut(t *testing.T) {
	if testing.Short() {
		t.Skip("power-cut test re-executes the test binary on a FUSE file system; skipped in -short mode")
	}
	p := powerfs.Mount(t)
	key := testKey(t)
	keyEnv := crashKeyEnv + "=" + hex.EncodeToString(key)
	cut := func() {
		if err := p.Cut(); err != nil {
			t.Fatal(err)
		}
	}
	restart := func() {
		t.Helper()
		if err := p.Restart(); err != nil {
			t.Fatalf("remount after the cut: %v", err)
		}
	}
	var appends, recovered, converting, cuts int
	count := func(dir string, lines []printed, c crashCheck) {
		for _, l := range lines {
			if !l.ack {
				appends++
			}
		}
		j := MustOpen(t, dir, Config{EncryptionKey: c.key})
		recovered += int(j.LastSeq())
		j.Close()
	}

	// Appends alone, then appends while compaction runs, in one journal.
	dir := filepath.Join(p.Dir, "journal")
	acked := map[uint64]bool{}
	round := 0
	for _, phase := range []struct {
		rounds int
		env    []string
	}{
		{rounds: 5},
		{rounds: 4, env: []string{crashCompactEnv + "=1"}},
	} {
		for range phase.rounds {
			lines := runChild(t, crashRun{
				dir: dir, round: strconv.Itoa(round), env: phase.env,
				wait: time.Duration(rand.IntN(300)) * time.Millisecond, cut: cut,
			})
			restart()
			cuts++
			c := crashCheck{compacted: len(phase.env) > 0 || round >= 5}
			checkAfterCrash(t, dir, lines, acked, c)
			if t.Failed() {
				return
			}
			count(dir, lines, c)
			round++
		}
	}

	// The conversion to encryption, cut at a random moment from the start
	// of the child that converts: each round on a plain journal of its own,
	// filled by a child that is cut too.
	for k := range 6 {
		dir := filepath.Join(p.Dir, "plain-"+strconv.Itoa(k))
		acked := map[uint64]bool{}
		plain := runChild(t, crashRun{dir: dir, round: strconv.Itoa(round), wait: 300 * time.Millisecond, cut: cut})
		restart()
		cuts++
		checkAfterCrash(t, dir, plain, acked, crashCheck{})
		round++
		lines := runChild(t, crashRun{
			dir: dir, round: strconv.Itoa(round), env: []string{keyEnv},
			wait: time.Duration(rand.IntN(500)) * time.Millisecond, fromStart: true, cut: cut,
		})
		restart()
		cuts++
		tmp, _, _ := conversionPaths(dir)
		if _, err := os.Stat(tmp); err == nil {
			converting++
		}
		c := crashCheck{key: key}
		checkAfterCrash(t, dir, append(plain, lines...), acked, c)
		if t.Failed() {
			return
		}
		count(dir, append(plain, lines...), c)
		round++
	}
	st, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d power cuts (%d during a conversion), %d appends returned, %d operations recovered (sum of last seqs); the file system saw %d writes, %d file syncs, %d directory syncs; the cuts dropped %d unsynced pages and %d directory entries",
		cuts, converting, appends, recovered, st.Writes, st.Syncs, st.DirSyncs, st.LostPages, st.LostEntries)
	if st.LostPages == 0 {
		t.Error("no cut dropped anything: the power-loss file system did not work")
	}
}
