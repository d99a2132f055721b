package printer

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// hsAnswer builds a ~HS answer with the given paper out, pause and head open
// flags.
func hsAnswer(paperOut, pause, headOpen bool) []byte {
	f := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	return []byte("\x02030," + f(paperOut) + "," + f(pause) + ",1218,000,0,0,0,000,0,0,0\x03\r\n" +
		"\x02000,0," + f(headOpen) + ",0,0,2,4,0,00000000,1,000\x03\r\n" +
		"\x021234,0\x03\r\n")
}

func TestParseHostStatus(t *testing.T) {
	for _, tt := range []struct {
		name       string
		in         []byte
		up         bool
		reason     string
		wantErrors bool
	}{
		{"ready", hsAnswer(false, false, false), true, "", false},
		{"paper out", hsAnswer(true, false, false), false, edge.PrinterPaperOut, false},
		{"paused", hsAnswer(false, true, false), false, edge.PrinterPaused, false},
		{"head open and paper out", hsAnswer(true, false, true), false, edge.PrinterHeadOpen, false},
		{"garbage", []byte("hello"), false, "", true},
		{"one line", []byte("\x02030,0,0\x03"), false, "", true},
		{"short fields", []byte("\x02030\x03\r\n\x02000\x03\r\n"), false, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, err := parseHostStatus(tt.in)
			if (err != nil) != tt.wantErrors {
				t.Fatalf("error %v, want error %v", err, tt.wantErrors)
			}
			if err == nil && (st.Up != tt.up || st.Reason != tt.reason) {
				t.Errorf("got up %v reason %q, want %v %q", st.Up, st.Reason, tt.up, tt.reason)
			}
		})
	}
}

// fakeZPLPrinter is a network label printer on loopback: it answers each
// ~HS with the next of its answers (the last one repeats) and records the
// bytes of every other connection as one printed job.
type fakeZPLPrinter struct {
	ln      net.Listener
	mu      sync.Mutex
	answers [][]byte
	asked   int
	jobs    [][]byte
}

func startFakeZPLPrinter(t *testing.T, answers ...[]byte) *fakeZPLPrinter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeZPLPrinter{ln: ln, answers: answers}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeZPLPrinter) serve(c net.Conn) {
	defer c.Close()
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if bytes.Equal(got, []byte("~HS")) {
			f.mu.Lock()
			a := f.answers[min(f.asked, len(f.answers)-1)]
			f.asked++
			f.mu.Unlock()
			c.Write(a)
			got = got[:0]
			continue
		}
		if err != nil {
			if err == io.EOF && len(got) > 0 {
				f.mu.Lock()
				f.jobs = append(f.jobs, got)
				f.mu.Unlock()
			}
			return
		}
	}
}

func (f *fakeZPLPrinter) state() (asked int, jobs [][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asked, slices.Clone(f.jobs)
}

// memQueue is an in-memory edge.PrintQueue.
type memQueue struct {
	mu   sync.Mutex
	jobs []edge.PrintJob
}

func (q *memQueue) PendingJobs(ctx context.Context) ([]edge.PrintJob, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []edge.PrintJob
	for _, j := range q.jobs {
		if j.State != edge.JobDone {
			j.Data = nil // as a journal gives them
			out = append(out, j)
		}
	}
	return out, nil
}

func (q *memQueue) PrintJob(ctx context.Context, id string) (edge.PrintJob, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range q.jobs {
		if j.ID == id {
			return j, nil
		}
	}
	return edge.PrintJob{}, edge.Errorf(edge.ENOTFOUND, "no job %s", id)
}

func (q *memQueue) PutPrintJob(ctx context.Context, job edge.PrintJob) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, j := range q.jobs {
		if j.ID == job.ID {
			q.jobs[i] = job
			return nil
		}
	}
	q.jobs = append(q.jobs, job)
	return nil
}

// startRunner runs r until the test ends.
func startRunner(t *testing.T, r *edge.PrintRunner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitFor polls cond until it holds, failing t after a generous deadline
// (a deadline for a hang, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFakeNetworkPrinter: a label printer that answers ~HS with paper out,
// then ready. The job waits (the printer is sent nothing and shows as down
// with the job pending), then prints exactly once.
func TestFakeNetworkPrinter(t *testing.T) {
	fake := startFakeZPLPrinter(t, hsAnswer(true, false, false), hsAnswer(false, false, false))
	p, err := Open("tcp://" + fake.ln.Addr().String() + "?status=zpl")
	if err != nil {
		t.Fatal(err)
	}
	label, err := Renderer{}.Label(fixedLabel())
	if err != nil {
		t.Fatal(err)
	}
	q := &memQueue{}
	q.PutPrintJob(context.Background(), edge.PrintJob{ID: "job-1", Printer: edge.PrinterLabel, Format: edge.FormatZPL, Data: label, State: edge.JobPending})
	var results []string
	var mu sync.Mutex
	r := &edge.PrintRunner{
		Queue: q, Printers: map[string]edge.Printer{edge.PrinterLabel: p},
		Logger: slog.New(slog.DiscardHandler), Interval: 10 * time.Millisecond,
		Observe: func(printer, result string) { mu.Lock(); results = append(results, result); mu.Unlock() },
	}
	startRunner(t, r)

	waitFor(t, "the printer to show paper out", func() bool {
		st := r.Statuses()
		return len(st) == 1 && !st[0].Up && st[0].Reason == edge.PrinterPaperOut
	})
	if st := r.Statuses()[0]; st.Pending != 1 {
		t.Errorf("status while out of paper: %+v, want 1 job pending", st)
	}
	if r.Up(edge.PrinterLabel) {
		t.Errorf("Up is true while the printer is out of paper")
	}
	if _, jobs := fake.state(); len(jobs) != 0 {
		t.Fatalf("a printer out of paper was sent %d jobs", len(jobs))
	}

	waitFor(t, "the job to print", func() bool {
		j, _ := q.PrintJob(context.Background(), "job-1")
		return j.State == edge.JobDone
	})
	// The job is done once the runner's write returned; the fake may still
	// be reading it.
	waitFor(t, "the printer to have the label", func() bool { _, jobs := fake.state(); return len(jobs) >= 1 })
	asked, jobs := fake.state()
	if len(jobs) != 1 || !bytes.Equal(jobs[0], label) {
		t.Fatalf("printer received %d jobs, want the label once", len(jobs))
	}
	if asked < 2 {
		t.Errorf("~HS asked %d times, want at least 2", asked)
	}
	if !r.Up(edge.PrinterLabel) {
		t.Errorf("Up is false once the printer printed")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(results) != 2 || results[0] != "not_ready" || results[1] != "ok" {
		t.Errorf("attempt results %q, want [not_ready ok]", results)
	}
}

// TestInterruptedJobHeld: a job left "sending" by a crash may have printed;
// the runner holds it instead of sending it again, until the clerk asks.
func TestInterruptedJobHeld(t *testing.T) {
	fake := startFakeZPLPrinter(t, hsAnswer(false, false, false))
	q := &memQueue{}
	data := []byte("^XA^FDheld^FS^XZ")
	q.PutPrintJob(context.Background(), edge.PrintJob{ID: "job-1", Printer: edge.PrinterLabel, Data: data, State: edge.JobSending})
	q.PutPrintJob(context.Background(), edge.PrintJob{ID: "job-2", Printer: edge.PrinterLabel, Data: []byte("^XA^FDnext^FS^XZ"), State: edge.JobPending})
	r := &edge.PrintRunner{
		Queue: q, Printers: map[string]edge.Printer{edge.PrinterLabel: &ZPLTCP{TCP: TCP{Addr: fake.ln.Addr().String()}}},
		Logger: slog.New(slog.DiscardHandler), Interval: 10 * time.Millisecond,
	}
	startRunner(t, r)
	waitFor(t, "job-2 to print", func() bool {
		j, _ := q.PrintJob(context.Background(), "job-2")
		return j.State == edge.JobDone
	})
	waitFor(t, "the printer to have job-2", func() bool { _, jobs := fake.state(); return len(jobs) >= 1 })
	j, _ := q.PrintJob(context.Background(), "job-1")
	if j.State != edge.JobHeld {
		t.Fatalf("interrupted job is %q, want held", j.State)
	}
	if _, jobs := fake.state(); len(jobs) != 1 {
		t.Fatalf("printer received %d jobs, want only job-2", len(jobs))
	}
	waitFor(t, "the status to count the held job", func() bool { return r.Statuses()[0].Held == 1 })

	if _, err := r.Retry(context.Background(), "job-1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reprint", func() bool {
		j, _ := q.PrintJob(context.Background(), "job-1")
		return j.State == edge.JobDone
	})
	waitFor(t, "the printer to have the reprint", func() bool { _, jobs := fake.state(); return len(jobs) >= 2 })
	if _, jobs := fake.state(); len(jobs) != 2 || !bytes.Equal(jobs[1], data) {
		t.Fatalf("printer received %d jobs, want job-2 then the reprint", len(jobs))
	}
}

func TestOpenStatus(t *testing.T) {
	p, err := Open("tcp://127.0.0.1:9100?status=zpl")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.(edge.StatusPrinter); !ok {
		t.Errorf("?status=zpl: %T does not ask the printer's status", p)
	}
	p, _ = Open("tcp://127.0.0.1:9100")
	if _, ok := p.(edge.StatusPrinter); ok {
		t.Errorf("plain tcp: %T asks ~HS of a printer that may not speak ZPL", p)
	}
	if _, err := Open("tcp://127.0.0.1:9100?status=pcl"); edge.ErrorCode(err) != edge.EINVALID {
		t.Errorf("status=pcl: error %v, want EINVALID", err)
	}
}

func TestParseRealTimeStatus(t *testing.T) {
	for _, tt := range []struct {
		name    string
		in      [3]byte
		up      bool
		reason  string
		wantErr bool
	}{
		{"ready", [3]byte{0x12, 0x12, 0x12}, true, "", false},
		{"paper end", [3]byte{0x12, 0x12, 0x72}, false, edge.PrinterPaperOut, false},
		{"cover open", [3]byte{0x1A, 0x16, 0x12}, false, edge.PrinterHeadOpen, false},
		{"offline", [3]byte{0x1A, 0x12, 0x12}, false, edge.PrinterPaused, false},
		{"not an answer", [3]byte{'o', 'k', '!'}, false, "", true},
	} {
		st, err := parseRealTimeStatus(tt.in)
		if (err != nil) != tt.wantErr || (err == nil && (st.Up != tt.up || st.Reason != tt.reason)) {
			t.Errorf("%s: got %+v, %v; want up %v reason %q error %v", tt.name, st, err, tt.up, tt.reason, tt.wantErr)
		}
	}
}

// TestFakeReceiptPrinter: a network receipt printer answers DLE EOT with
// paper end, then ready; the receipt waits, then prints exactly once.
func TestFakeReceiptPrinter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	asked, jobs := 0, [][]byte{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b, _ := io.ReadAll(io.LimitReader(c, 9))
				if bytes.Equal(b, []byte{0x10, 4, 1, 0x10, 4, 2, 0x10, 4, 4}) {
					mu.Lock()
					paper := byte(0x72)
					if asked > 0 {
						paper = 0x12
					}
					asked++
					mu.Unlock()
					c.Write([]byte{0x12, 0x12, paper})
					return
				}
				rest, _ := io.ReadAll(c)
				mu.Lock()
				jobs = append(jobs, append(b, rest...))
				mu.Unlock()
			}()
		}
	}()
	p, err := Open("tcp://" + ln.Addr().String() + "?status=escpos")
	if err != nil {
		t.Fatal(err)
	}
	receipt, err := Renderer{}.Receipt(fixedReceipt())
	if err != nil {
		t.Fatal(err)
	}
	q := &memQueue{}
	q.PutPrintJob(context.Background(), edge.PrintJob{ID: "r-1", Printer: edge.PrinterReceipt, Format: edge.FormatESCPOS, Data: receipt, State: edge.JobPending})
	r := &edge.PrintRunner{
		Queue: q, Printers: map[string]edge.Printer{edge.PrinterReceipt: p},
		Logger: slog.New(slog.DiscardHandler), Interval: 10 * time.Millisecond,
	}
	startRunner(t, r)
	waitFor(t, "the printer to show paper out", func() bool {
		st := r.Statuses()
		return len(st) == 1 && st[0].Reason == edge.PrinterPaperOut
	})
	waitFor(t, "the receipt to print", func() bool {
		j, _ := q.PrintJob(context.Background(), "r-1")
		return j.State == edge.JobDone
	})
	waitFor(t, "the printer to have the receipt", func() bool { mu.Lock(); defer mu.Unlock(); return len(jobs) >= 1 })
	mu.Lock()
	defer mu.Unlock()
	if len(jobs) != 1 || !bytes.Equal(jobs[0], receipt) {
		t.Fatalf("printer received %d jobs, want the receipt once", len(jobs))
	}
}
