package journal

import (
	"go.uber.org/goleak"

	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/build/testenv/powerfs"
	"github.com/comptoir/comptoir/edge"
)

// The crash test runs the test binary again as a child process that appends
// from several goroutines and prints each seq once Append has returned; the
// parent kills it with SIGKILL at a random moment, reopens the journal and
// checks that every printed operation is there, intact, with seqs gap-free
// and projections that match the operations. Meanwhile the child acks what
// it reads from the outbox, as the uplink does, but out of order and leaving
// holes, printing each range before it acks it: after the crash every
// operation outside the printed ranges must still be in the outbox.

const (
	crashDirEnv   = "COMPTOIR_JOURNAL_CRASH_DIR"
	crashRoundEnv = "COMPTOIR_JOURNAL_CRASH_ROUND"
	// crashKeyEnv (hex) makes the child open the journal encrypted, which
	// converts a plain one; crashCompactEnv makes it compact meanwhile.
	crashKeyEnv     = "COMPTOIR_JOURNAL_CRASH_KEY"
	crashCompactEnv = "COMPTOIR_JOURNAL_CRASH_COMPACT"
	crashWriters    = 4
)

func TestMain(m *testing.M) {
	powerfs.Serve() // when run as TestPowerCut's file system
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir, os.Getenv(crashRoundEnv))
		return
	}
	// goleak fails the tests when a goroutine they started (the writer,
	// compaction) is still running at the end.
	goleak.VerifyTestMain(m)
}

// crashOp is the operation writer w appends i-th in a round: deposits (with a
// print job), handovers of the writer's deposit two steps before, refusals.
func crashOp(round string, w, i int) (edge.Operation, []edge.PrintJob) {
	at := t0.Add(time.Duration(i) * time.Millisecond)
	operator := fmt.Sprintf("r%s-w%d-i%d", round, w, i)
	tracking := func(i int) string { return fmt.Sprintf("C%s-%d-%d", round, w, i) }
	switch i % 4 {
	case 0, 1:
		op := edge.NewOperation(edge.OpReturnDeposited, at, operator, tracking(i), edge.DepositData{
			Carrier: "colis", Mode: "prelabelled", WeightG: i, ReceiptID: "r-" + tracking(i), ShelfSlot: strconv.Itoa(i),
		})
		return op, []edge.PrintJob{{ID: "J-" + tracking(i), Printer: edge.PrinterReceipt, Data: []byte(tracking(i))}}
	case 2:
		return edge.NewOperation(edge.OpParcelHandedOver, at, operator, tracking(i-2), edge.HandedOverData{ManifestID: "m", Carrier: "colis"}), nil
	default:
		return edge.NewOperation(edge.OpReturnRefused, at, operator, "", edge.RefusedData{Reason: edge.Overweight, Digest: operator}), nil
	}
}

// crashChild appends until it is killed (or for 30 s at most).
func crashChild(dir, round string) {
	key, err := hex.DecodeString(os.Getenv(crashKeyEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child key:", err)
		os.Exit(2)
	}
	j, err := Open(dir, Config{Terminal: testTerminal, EncryptionKey: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	deadline := time.Now().Add(30 * time.Second)
	var wg sync.WaitGroup
	if os.Getenv(crashCompactEnv) != "" {
		// Compaction deletes what the acker acked, over and over.
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if _, err := j.Compact(context.Background(), 0); err != nil {
					fmt.Fprintln(os.Stderr, "child compact:", err)
					os.Exit(2)
				}
			}
		})
	}
	for w := range crashWriters {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				op, jobs := crashOp(round, w, i)
				got, err := j.Append(context.Background(), op, jobs...)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(2)
				}
				// One write per line: a pipe write under 4 KiB is atomic.
				fmt.Fprintf(os.Stdout, "OK %s %d %d %d %s END\n", round, w, i, got.Seq, got.ID)
			}
		})
	}
	wg.Go(func() { crashAcker(j, deadline) })
	wg.Wait()
	j.Close()
	os.Exit(0)
}

// crashAcker reads the outbox in batches and acks the second half of each
// batch before the first, and only the second half of every third batch.
func crashAcker(j *Journal, deadline time.Time) {
	ctx := context.Background()
	after := uint64(0)
	for n := 0; time.Now().Before(deadline); n++ {
		ops, err := j.Pending(ctx, after, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child pending:", err)
			os.Exit(2)
		}
		if len(ops) < 2 {
			time.Sleep(time.Millisecond)
			continue
		}
		after = ops[len(ops)-1].Seq
		mid := len(ops) / 2
		halves := [][]edge.Operation{ops[mid:], ops[:mid]}
		if n%3 == 2 {
			halves = halves[:1]
		}
		for _, h := range halves {
			first, last := h[0].Seq, h[len(h)-1].Seq
			fmt.Fprintf(os.Stdout, "ACK %d %d END\n", first, last)
			if err := j.Ack(ctx, first, last); err != nil {
				fmt.Fprintln(os.Stderr, "child ack:", err)
				os.Exit(2)
			}
		}
	}
}

type printed struct {
	round string
	w, i  int
	seq   uint64
	id    string
	// ack is set for a range the child acked (or was about to): seq..last.
	ack  bool
	last uint64
}

func parsePrinted(line string) (printed, bool) {
	f := strings.Fields(line)
	if len(f) == 4 && f[0] == "ACK" && f[3] == "END" {
		first, err1 := strconv.ParseUint(f[1], 10, 64)
		last, err2 := strconv.ParseUint(f[2], 10, 64)
		return printed{ack: true, seq: first, last: last}, err1 == nil && err2 == nil
	}
	if len(f) != 7 || f[0] != "OK" || f[6] != "END" {
		return printed{}, false
	}
	w, err1 := strconv.Atoi(f[2])
	i, err2 := strconv.Atoi(f[3])
	seq, err3 := strconv.ParseUint(f[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return printed{}, false
	}
	return printed{round: f[1], w: w, i: i, seq: seq, id: f[5]}, true
}

func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test re-executes the test binary; skipped in -short mode")
	}
	dir := t.TempDir()
	const rounds = 8
	total := 0
	acked := map[uint64]bool{} // seqs the children acked, over all rounds
	for round := range rounds {
		lines := runAndKill(t, dir, strconv.Itoa(round), time.Duration(rand.IntN(400))*time.Millisecond)
		for _, p := range lines {
			if !p.ack {
				total++
			}
		}
		checkAfterCrash(t, dir, lines, acked, crashCheck{})
		if t.Failed() {
			return
		}
	}
	t.Logf("%d rounds, %d acknowledged appends checked", rounds, total)
}

// runAndKill starts a child appending in dir, lets it run for after its
// first append plus wait, kills it with SIGKILL and returns what it printed.
func runAndKill(t *testing.T, dir, round string, wait time.Duration) []printed {
	t.Helper()
	return runChild(t, crashRun{dir: dir, round: round, wait: wait})
}

// crashRun is one life of a child: where it appends, what else it does
// (env), and how it ends: wait after its first append (or after its start,
// with fromStart), then cut (a power cut; nil for none), then SIGKILL.
type crashRun struct {
	dir, round string
	env        []string
	wait       time.Duration
	fromStart  bool
	cut        func()
}

// runChild runs a child as r says and returns what it printed.
func runChild(t *testing.T, r crashRun) []printed {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+r.dir, crashRoundEnv+"="+r.round)
	cmd.Env = append(cmd.Env, r.env...)
	// After a power cut the child's errors are expected: kept, and shown
	// only when it printed nothing.
	var stderr testenv.Buffer
	cmd.Stderr = &stderr
	if r.cut == nil {
		cmd.Stderr = os.Stderr
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make(chan struct{})
	var lines []printed
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if p, ok := parsePrinted(sc.Text()); ok {
				if len(lines) == 0 {
					close(first)
				}
				lines = append(lines, p)
			}
		}
	}()
	if !r.fromStart {
		select {
		case <-first:
		case <-readDone:
			cmd.Wait()
			t.Fatalf("round %s: the child printed nothing: %s", r.round, stderr.String())
		}
	}
	time.Sleep(r.wait)
	if r.cut != nil {
		// Nothing the child does from now on reaches the disk; it may
		// see errors and end by itself before the SIGKILL.
		r.cut()
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && r.cut == nil {
		t.Fatal(err)
	}
	<-readDone
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); r.cut == nil && (!ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL) {
		t.Fatalf("round %s: the child ended by itself (%v), not by SIGKILL", r.round, err)
	}
	return lines
}

// crashCheck is how the journal is reopened after a crash: with a key, and
// whether compaction may have deleted acked operations.
type crashCheck struct {
	key       []byte
	compacted bool
}

// checkAfterCrash reopens the journal and checks it against what the child
// printed and against itself.
func checkAfterCrash(t *testing.T, dir string, lines []printed, acked map[uint64]bool, c crashCheck) {
	t.Helper()
	ctx := context.Background()
	j := MustOpen(t, dir, Config{EncryptionKey: c.key})
	defer j.Close()

	for _, p := range lines {
		if p.ack {
			for seq := p.seq; seq <= p.last; seq++ {
				acked[seq] = true
			}
		}
	}
	last := j.LastSeq()
	all, err := j.Operations(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Seqs are gap-free: each seq up to the last is there, or was acked
	// and compaction may have deleted it.
	ops := make(map[uint64]edge.Operation, len(all))
	for _, op := range all {
		ops[op.Seq] = op
	}
	if !c.compacted && uint64(len(all)) != last {
		t.Fatalf("%d operations for last seq %d", len(all), last)
	}
	for seq := uint64(1); seq <= last; seq++ {
		if _, ok := ops[seq]; !ok && !(c.compacted && acked[seq]) {
			t.Fatalf("seq %d of %d is missing: seqs are not gap-free", seq, last)
		}
	}
	for _, p := range lines {
		if p.ack {
			continue
		}
		if p.seq > last {
			t.Errorf("printed seq %d is beyond the last seq %d after the crash", p.seq, last)
			continue
		}
		op, ok := ops[p.seq]
		if !ok {
			continue // acked and compacted
		}
		want, jobs := crashOp(p.round, p.w, p.i)
		want.ID, want.Terminal, want.Seq = p.id, testTerminal, p.seq
		if !sameOp(op, want) {
			t.Errorf("seq %d after the crash: got %+v, want %+v", p.seq, op, want)
		}
		for _, job := range jobs {
			if got, err := j.PrintJob(ctx, job.ID); err != nil || string(got.Data) != string(job.Data) {
				t.Errorf("print job %s of seq %d: got %q, %v", job.ID, p.seq, got.Data, err)
			}
		}
	}
	checkOutbox(t, j, last, acked)
	if c.compacted {
		return // the replay below needs every operation
	}

	// The projections match a replay of the operations.
	type entry struct{ tracking, id string }
	var shelf []entry
	counts := map[edge.OpType]int64{}
	for _, op := range all {
		counts[op.Type]++
		switch op.Type {
		case edge.OpReturnDeposited:
			shelf = append(shelf, entry{op.Tracking, op.ID})
		case edge.OpParcelHandedOver:
			for k := len(shelf) - 1; k >= 0; k-- {
				if shelf[k].tracking == op.Tracking {
					shelf = append(shelf[:k], shelf[k+1:]...)
					break
				}
			}
		}
	}
	got, err := j.Shelf(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(shelf) {
		t.Fatalf("shelf after the crash: %d parcels, replay gives %d", len(got), len(shelf))
	}
	for k := range got {
		if got[k].Tracking != shelf[k].tracking || got[k].DepositID != shelf[k].id {
			t.Fatalf("shelf parcel %d: got %s/%s, replay gives %s/%s", k, got[k].Tracking, got[k].DepositID, shelf[k].tracking, shelf[k].id)
		}
	}
	byType, refusals := j.Counts()
	for typ, n := range counts {
		if byType[typ] != n {
			t.Errorf("count of %s: got %d, replay gives %d", typ, byType[typ], n)
		}
	}
	if refusals[edge.Overweight] != counts[edge.OpReturnRefused] {
		t.Errorf("refusals: got %v, want %d OVERWEIGHT", refusals, counts[edge.OpReturnRefused])
	}
}

// checkOutbox checks that every operation the child did not ack is still in
// the outbox, once and in order; an ack the crash took back only puts its
// ops back.
func checkOutbox(t *testing.T, j *Journal, last uint64, acked map[uint64]bool) {
	t.Helper()
	ctx := context.Background()
	pending, err := j.Pending(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	inOutbox := map[uint64]bool{}
	for k, op := range pending {
		if k > 0 && op.Seq <= pending[k-1].Seq {
			t.Fatalf("outbox after the crash: seq %d after %d", op.Seq, pending[k-1].Seq)
		}
		inOutbox[op.Seq] = true
	}
	for seq := uint64(1); seq <= last; seq++ {
		if !acked[seq] && !inOutbox[seq] {
			t.Errorf("seq %d left the outbox after the crash, but was never acked", seq)
		}
	}
	if n, _, _ := j.OutboxStats(ctx); n != len(pending) {
		t.Errorf("outbox count %d, but %d operations pending", n, len(pending))
	}
}
