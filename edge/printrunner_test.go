package edge_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// jobStore is an in-memory edge.PrintQueue whose writes of a given state
// can be made to fail, as a full or broken disk would.
type jobStore struct {
	mu       sync.Mutex
	jobs     map[string]edge.PrintJob
	order    []string
	failPut  string // state whose writes fail
	failures int
}

func newJobStore(jobs ...edge.PrintJob) *jobStore {
	s := &jobStore{jobs: map[string]edge.PrintJob{}}
	for _, j := range jobs {
		s.jobs[j.ID] = j
		s.order = append(s.order, j.ID)
	}
	return s
}

func (s *jobStore) PendingJobs(context.Context) ([]edge.PrintJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []edge.PrintJob
	for _, id := range s.order {
		if j := s.jobs[id]; j.State != edge.JobDone {
			j.Data = nil // as a journal gives them
			out = append(out, j)
		}
	}
	return out, nil
}

func (s *jobStore) PrintJob(_ context.Context, id string) (edge.PrintJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return edge.PrintJob{}, edge.Errorf(edge.ENOTFOUND, "no job %s", id)
	}
	return j, nil
}

func (s *jobStore) PutPrintJob(_ context.Context, j edge.PrintJob) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failPut != "" && j.State == s.failPut {
		s.failures++
		return errors.New("disk on fire")
	}
	s.jobs[j.ID] = j
	return nil
}

func (s *jobStore) get(id string) edge.PrintJob {
	j, _ := s.PrintJob(context.Background(), id)
	return j
}

// countingPrinter counts what it prints, keeps the bytes last printed of
// each job, and fails while err is set.
type countingPrinter struct {
	mu      sync.Mutex
	printed map[string]int
	data    map[string]string
	err     error
}

func (p *countingPrinter) Print(_ context.Context, id string, data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if p.printed == nil {
		p.printed, p.data = map[string]int{}, map[string]string{}
	}
	p.printed[id]++
	p.data[id] = string(data)
	return nil
}

func (p *countingPrinter) count(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.printed[id]
}

func (p *countingPrinter) dataOf(id string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.data[id]
}

func (p *countingPrinter) setErr(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

func runRunner(t *testing.T, r *edge.PrintRunner) {
	t.Helper()
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	r.Interval = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func pendingJob(id string) edge.PrintJob {
	return edge.PrintJob{ID: id, Printer: edge.PrinterLabel, Format: edge.FormatZPL, Data: []byte("^XA^XZ"), State: edge.JobPending}
}

// TestPrintRunnerBackoff: a printer that is off keeps its job pending with
// a later next attempt, visible in Statuses, and the job prints once when
// the printer is back.
func TestPrintRunnerBackoff(t *testing.T) {
	store := newJobStore(pendingJob("a"))
	p := &countingPrinter{err: errors.New("connection refused")}
	r := &edge.PrintRunner{Queue: store, Printers: map[string]edge.Printer{edge.PrinterLabel: p}}
	runRunner(t, r)

	eventually(t, "a failed attempt", func() bool { return store.get("a").Attempts >= 1 })
	j := store.get("a")
	if j.State != edge.JobPending || j.LastError == "" || !j.NextAttempt.After(j.UpdatedAt) {
		t.Errorf("after a failure: %+v, want pending with an error and a later next attempt", j)
	}
	eventually(t, "the status to show the failure", func() bool {
		st := r.Statuses()
		return len(st) == 1 && !st[0].Up && st[0].Reason == edge.PrinterFailing && st[0].Pending == 1 && !st[0].NextAttempt.IsZero()
	})

	p.setErr(nil)
	eventually(t, "the job to print", func() bool { return store.get("a").State == edge.JobDone })
	if n := p.count("a"); n != 1 {
		t.Errorf("printed %d times, want 1", n)
	}
	// The queue lists jobs without their data, as a journal does.
	if got := p.dataOf("a"); got != "^XA^XZ" {
		t.Errorf("printed %q, want the job's data", got)
	}
	if got := store.get("a").Data; string(got) != "^XA^XZ" {
		t.Errorf("data of the printed job %q, want it kept", got)
	}
	if !r.Up(edge.PrinterLabel) {
		t.Errorf("printer still down after a print")
	}
}

// TestPrintRunnerNeverTwice: when the job cannot be marked done after its
// bytes went out (the disk failed), it stays marked sending and is then
// held: it is not printed a second time until Retry asks for it.
func TestPrintRunnerNeverTwice(t *testing.T) {
	store := newJobStore(pendingJob("a"))
	store.failPut = edge.JobDone
	p := &countingPrinter{}
	r := &edge.PrintRunner{Queue: store, Printers: map[string]edge.Printer{edge.PrinterLabel: p}}
	runRunner(t, r)

	eventually(t, "the job to be held", func() bool { return store.get("a").State == edge.JobHeld })
	if n := p.count("a"); n != 1 {
		t.Fatalf("printed %d times, want 1", n)
	}
	store.mu.Lock()
	store.failPut = ""
	store.mu.Unlock()
	eventually(t, "the held job to be counted", func() bool { return r.Statuses()[0].Held == 1 })
	if n := p.count("a"); n != 1 {
		t.Fatalf("a held job printed again: %d times", n)
	}

	// The clerk asks: it prints again, once.
	if _, err := r.Retry(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reprint", func() bool { return store.get("a").State == edge.JobDone })
	if n := p.count("a"); n != 2 {
		t.Fatalf("printed %d times after one reprint, want 2", n)
	}
	if got := p.dataOf("a"); got != "^XA^XZ" {
		t.Errorf("reprinted %q, want the job's data, kept while it was held", got)
	}
	// A done job asked again prints again: a reprint is always possible.
	if _, err := r.Retry(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second reprint", func() bool { return p.count("a") == 3 })
	if _, err := r.Retry(context.Background(), "nope"); edge.ErrorCode(err) != edge.ENOTFOUND {
		t.Errorf("retry of an unknown job: %v, want NOT_FOUND", err)
	}
}

// TestPrintRunnerNoMarkNoPrint: when the job cannot be marked sending, its
// bytes are not sent at all (else a crash could print it twice).
func TestPrintRunnerNoMarkNoPrint(t *testing.T) {
	store := newJobStore(pendingJob("a"))
	store.failPut = edge.JobSending
	p := &countingPrinter{}
	r := &edge.PrintRunner{Queue: store, Printers: map[string]edge.Printer{edge.PrinterLabel: p}}
	runRunner(t, r)
	eventually(t, "an attempt", func() bool {
		store.mu.Lock()
		defer store.mu.Unlock()
		return store.failures >= 1
	})
	eventually(t, "the attempt to be recorded", func() bool { return store.get("a").Attempts >= 1 })
	if n := p.count("a"); n != 0 {
		t.Fatalf("printed %d times although the job could not be marked sending", n)
	}
}

// gatedPrinter blocks each print until the test lets it go.
type gatedPrinter struct {
	countingPrinter
	started chan struct{}
	gate    chan struct{}
}

func (p *gatedPrinter) Print(ctx context.Context, id string, data []byte) error {
	p.started <- struct{}{}
	<-p.gate
	return p.countingPrinter.Print(ctx, id, data)
}

// TestPrintRunnerRetryWhilePrinting: a reprint asked while the job is
// printing is not lost when that print ends.
func TestPrintRunnerRetryWhilePrinting(t *testing.T) {
	store := newJobStore(pendingJob("a"))
	p := &gatedPrinter{started: make(chan struct{}), gate: make(chan struct{})}
	r := &edge.PrintRunner{Queue: store, Printers: map[string]edge.Printer{edge.PrinterLabel: p}}
	runRunner(t, r)
	<-p.started
	if _, err := r.Retry(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	p.gate <- struct{}{} // the first print ends
	<-p.started          // the reprint starts
	p.gate <- struct{}{}
	eventually(t, "the reprint to be done", func() bool { return store.get("a").State == edge.JobDone && p.count("a") == 2 })
}

// countedQueue is a jobStore that counts the runner's looks at the queue.
type countedQueue struct {
	*jobStore
	looks *atomic.Int32
}

func (q countedQueue) PendingJobs(ctx context.Context) ([]edge.PrintJob, error) {
	q.looks.Add(1)
	return q.jobStore.PendingJobs(ctx)
}

// TestPrintRunnerUnchecked: a printer neither asked nor sent a job is up
// and said to be unchecked, before and after the runner looked at an empty
// queue (which once left it down with no reason), until its first job.
func TestPrintRunnerUnchecked(t *testing.T) {
	p := &countingPrinter{}
	q := countedQueue{newJobStore(), new(atomic.Int32)}
	r := &edge.PrintRunner{Queue: q, Printers: map[string]edge.Printer{edge.PrinterLabel: p}}
	check := func(when string, wantUp bool, wantReason string) {
		t.Helper()
		st := r.Statuses()
		if len(st) != 1 || st[0].Up != wantUp || st[0].Reason != wantReason || r.Up(edge.PrinterLabel) != wantUp {
			t.Errorf("%s: %+v, Up %v; want up %v, reason %q", when, st, r.Up(edge.PrinterLabel), wantUp, wantReason)
		}
	}
	check("before the runner starts", true, edge.PrinterUnchecked)
	runRunner(t, r)
	// A second look means the first one is over.
	eventually(t, "two looks at the queue", func() bool { return q.looks.Load() >= 2 })
	check("after a look at an empty queue", true, edge.PrinterUnchecked)
	p.setErr(errors.New("off"))
	q.jobStore.mu.Lock()
	q.jobs["a"], q.order = pendingJob("a"), append(q.order, "a")
	q.jobStore.mu.Unlock()
	r.Notify()
	eventually(t, "the failure to be known", func() bool { return !r.Up(edge.PrinterLabel) })
	check("after a failed job", false, edge.PrinterFailing)
}
