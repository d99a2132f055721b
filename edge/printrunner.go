package edge

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// PrintRunner sends queued print jobs to their printers in the background.
// A printer that is off or out of paper delays its own jobs only: deposits
// are journalled before their jobs run, and a failed job is retried with
// exponential backoff. A printer that can say it is not ready (a
// StatusPrinter out of paper, head open or paused) is asked first and sent
// nothing until it is.
//
// A job is never printed twice unless Retry asks for it: it is marked done
// once its printer took it, and marked sending, durably, just before its
// bytes go out; a job found sending when the runner starts was interrupted
// and may have printed, so it is held for the clerk instead of being sent
// again.
type PrintRunner struct {
	Queue    PrintQueue
	Printers map[string]Printer
	Logger   *slog.Logger
	// Interval is the longest sleep between two looks at the queue.
	Interval time.Duration
	// StatusInterval is how often an idle StatusPrinter is asked for its
	// status, so that printer_up shows paper out before the next deposit;
	// 30 s by default.
	StatusInterval time.Duration
	// Observe, when set, is told the result of every attempt ("ok",
	// "error", or "not_ready" when the printer said it was not ready and
	// was sent nothing) for metrics.
	Observe func(printer, result string)

	notify chan struct{}
	once   sync.Once
	mu     sync.Mutex
	status map[string]PrinterStatus
}

func (r *PrintRunner) init() {
	r.once.Do(func() {
		r.notify = make(chan struct{}, 1)
		r.status = make(map[string]PrinterStatus)
		if r.Interval == 0 {
			r.Interval = 2 * time.Second
		}
		if r.StatusInterval == 0 {
			r.StatusInterval = 30 * time.Second
		}
		if r.Logger == nil {
			r.Logger = slog.Default()
		}
	})
}

// Notify wakes the runner; it never blocks.
func (r *PrintRunner) Notify() {
	r.init()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// Up reports whether printer takes jobs: what it said of itself when last
// asked, or else whether the last attempt on it succeeded (true before
// either).
func (r *PrintRunner) Up(printer string) bool {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.status[printer]
	return st.Up || st.CheckedAt.IsZero()
}

// Statuses returns the status of every printer, with the jobs waiting for
// it as of the runner's last look at the queue, sorted by printer name. A
// printer neither asked nor tried yet is up with reason PrinterUnchecked:
// nothing is known of it but that it will be tried.
func (r *PrintRunner) Statuses() []PrinterStatus {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]PrinterStatus, 0, len(r.Printers))
	for name := range r.Printers {
		st := r.status[name]
		if st.CheckedAt.IsZero() {
			st.Up, st.Reason = true, PrinterUnchecked
		}
		st.Printer = name
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b PrinterStatus) int { return strings.Compare(a.Printer, b.Printer) })
	return out
}

// setStatus records what is known of printer, keeping its job counts.
func (r *PrintRunner) setStatus(printer string, up bool, reason, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.status[printer]
	st.Up, st.Reason, st.Message, st.CheckedAt = up, reason, message, time.Now().UTC()
	if up {
		st.Reason, st.Message = PrinterReady, ""
	}
	r.status[printer] = st
}

// Run sends jobs until ctx is done.
func (r *PrintRunner) Run(ctx context.Context) {
	r.init()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.notify:
		case <-timer.C:
		}
		next := r.runOnce(ctx)
		wait := r.Interval
		if d := time.Until(next); !next.IsZero() && d < wait {
			wait = max(d, 10*time.Millisecond)
		}
		timer.Reset(wait)
	}
}

// runOnce tries every due job once and returns when the next one is due
// (zero when none waits).
func (r *PrintRunner) runOnce(ctx context.Context) time.Time {
	jobs, err := r.Queue.PendingJobs(ctx)
	if err != nil {
		r.Logger.Error("print jobs", "error", err)
		return time.Time{}
	}
	var next time.Time
	down := map[string]bool{}
	queued := map[string]*printerQueue{}
	for name := range r.Printers {
		queued[name] = &printerQueue{}
	}
	defer func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for name, c := range queued {
			st := r.status[name]
			st.Pending, st.Held, st.NextAttempt = c.pending, c.held, c.next
			r.status[name] = st
		}
	}()
	for _, j := range jobs {
		var ok bool
		c := queued[j.Printer]
		if c == nil {
			c = &printerQueue{}
			queued[j.Printer] = c
		}
		c.pending++
		if j.State == JobSending {
			// Nothing is being sent while runOnce looks at the queue:
			// this job's sending was interrupted (by a crash) and it may
			// have printed. Hold it for the clerk rather than print it
			// twice.
			if j, ok = r.load(ctx, j); !ok {
				continue
			}
			j.State, j.UpdatedAt = JobHeld, time.Now()
			j.LastError = "interrupted while printing; reprint it if it did not come out"
			if err := r.Queue.PutPrintJob(ctx, j); err != nil {
				r.Logger.Error("print job state", "job", j.ID, "error", err)
			}
			r.Logger.Warn("print job held: interrupted while printing", "job", j.ID, "printer", j.Printer)
		}
		if j.State == JobHeld {
			c.held++
			continue
		}
		if c.next.IsZero() || j.NextAttempt.Before(c.next) {
			c.next = j.NextAttempt
		}
		if ctx.Err() != nil {
			return time.Time{}
		}
		if now := time.Now(); j.NextAttempt.After(now) || down[j.Printer] {
			if next.IsZero() || j.NextAttempt.Before(next) {
				next = j.NextAttempt
			}
			continue
		}
		if j, ok = r.load(ctx, j); !ok || j.State != JobPending {
			continue
		}
		if err := r.attempt(ctx, &j); err != nil {
			// Keep the printer's order: later jobs wait for this one.
			down[j.Printer] = true
			if next.IsZero() || j.NextAttempt.Before(next) {
				next = j.NextAttempt
			}
			c.next = j.NextAttempt
		} else {
			c.pending--
			if c.pending == c.held {
				c.next = time.Time{}
			}
		}
	}
	r.pollIdle(ctx, queued)
	return next
}

// load reads job j again with its data, which PendingJobs leaves out; false
// when it is gone or cannot be read.
func (r *PrintRunner) load(ctx context.Context, j PrintJob) (PrintJob, bool) {
	full, err := r.Queue.PrintJob(ctx, j.ID)
	if err != nil {
		if ErrorCode(err) != ENOTFOUND {
			r.Logger.Error("print job", "job", j.ID, "error", err)
		}
		return j, false
	}
	return full, true
}

// printerQueue counts the jobs waiting for one printer.
type printerQueue struct {
	pending, held int
	next          time.Time
}

// pollIdle asks the status printers that have no job waiting whether they
// are ready, at most once every StatusInterval each.
func (r *PrintRunner) pollIdle(ctx context.Context, queued map[string]*printerQueue) {
	for name, p := range r.Printers {
		sp, ok := p.(StatusPrinter)
		if !ok || ctx.Err() != nil || queued[name].pending > queued[name].held {
			continue
		}
		r.mu.Lock()
		last := r.status[name].CheckedAt
		r.mu.Unlock()
		if time.Since(last) < r.StatusInterval {
			continue
		}
		r.ask(ctx, name, sp)
	}
}

// ask asks a status printer whether it is ready and records the answer;
// it returns a PRINTER_ERROR saying why when it is not.
func (r *PrintRunner) ask(ctx context.Context, name string, sp StatusPrinter) error {
	st, err := sp.Status(ctx)
	switch {
	case err != nil:
		r.setStatus(name, false, PrinterUnreachable, err.Error())
		return Errorf(EPRINTER, "printer %s: %v", name, err)
	case !st.Up:
		r.setStatus(name, false, st.Reason, st.Message)
		return Errorf(EPRINTER, "printer %s not ready: %s", name, strOr(st.Message, st.Reason))
	}
	r.setStatus(name, true, PrinterReady, "")
	return nil
}

func strOr(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

func (r *PrintRunner) attempt(ctx context.Context, j *PrintJob) error {
	p, ok := r.Printers[j.Printer]
	var err error
	result, again := "error", false
	switch {
	case !ok:
		err = Errorf(EPRINTER, "no printer named %q", j.Printer)
	default:
		if sp, isStatus := p.(StatusPrinter); isStatus {
			if err = r.ask(ctx, j.Printer, sp); err != nil {
				result = "not_ready"
				break
			}
		}
		// Mark the job sending, durably, before its bytes go out: if the
		// terminal dies before the job is marked done, the next start
		// holds it instead of printing it a second time.
		sendingAt := time.Now()
		j.State, j.UpdatedAt = JobSending, sendingAt
		if err = r.Queue.PutPrintJob(ctx, *j); err != nil {
			j.State = JobPending
			break
		}
		if err = p.Print(ctx, j.ID, j.Data); err == nil {
			result = "ok"
			// A reprint asked (Retry) while this one was printing must
			// not be lost by marking the job done.
			if cur, gerr := r.Queue.PrintJob(ctx, j.ID); gerr == nil && cur.State == JobPending && cur.UpdatedAt.After(sendingAt) {
				again = true
			}
		}
	}
	now := time.Now()
	j.Attempts++
	j.UpdatedAt = now
	if err != nil {
		j.State = JobPending
		j.LastError = err.Error()
		j.NextAttempt = now.Add(backoff(j.Attempts))
		r.Logger.Warn("print failed", "job", j.ID, "printer", j.Printer, "attempts", j.Attempts, "error", err)
		if result == "error" {
			r.setStatus(j.Printer, false, PrinterFailing, err.Error())
		}
	} else {
		j.State, j.LastError = JobDone, ""
		if again {
			j.State, j.NextAttempt = JobPending, now
		}
		r.setStatus(j.Printer, true, PrinterReady, "")
	}
	if r.Observe != nil {
		r.Observe(j.Printer, result)
	}
	if perr := r.Queue.PutPrintJob(ctx, *j); perr != nil {
		r.Logger.Error("print job state", "job", j.ID, "error", perr)
	}
	return err
}

// Retry queues job id to print again now, even when it was printed already:
// the clerk asked for a reprint.
func (r *PrintRunner) Retry(ctx context.Context, id string) (PrintJob, error) {
	j, err := r.Queue.PrintJob(ctx, id)
	if err != nil {
		return PrintJob{}, err
	}
	j.State, j.NextAttempt, j.UpdatedAt = JobPending, time.Now(), time.Now()
	if err := r.Queue.PutPrintJob(ctx, j); err != nil {
		return PrintJob{}, err
	}
	r.Notify()
	return j, nil
}

// backoff grows from 1 s to 5 min, with jitter so that a fleet of terminals
// whose printers came back together does not retry in step.
func backoff(attempts int) time.Duration {
	d := time.Second << min(attempts-1, 9)
	d = min(d, 5*time.Minute)
	return d/2 + rand.N(d/2+1)
}
