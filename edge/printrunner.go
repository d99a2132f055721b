package edge

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// PrintRunner sends queued print jobs to their printers in the background.
// A printer that is off or out of paper delays its own jobs only: deposits
// are journalled before their jobs run, and a failed job is retried with
// exponential backoff. A job marked done is never sent again unless Retry
// asks for it.
type PrintRunner struct {
	Queue    PrintQueue
	Printers map[string]Printer
	Logger   *slog.Logger
	// Interval is the longest sleep between two looks at the queue.
	Interval time.Duration
	// Observe, when set, is told the result of every attempt ("ok" or
	// "error") for metrics.
	Observe func(printer, result string)

	notify chan struct{}
	once   sync.Once
	mu     sync.Mutex
	up     map[string]bool
}

func (r *PrintRunner) init() {
	r.once.Do(func() {
		r.notify = make(chan struct{}, 1)
		r.up = make(map[string]bool)
		if r.Interval == 0 {
			r.Interval = 2 * time.Second
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

// Up reports whether the last attempt on printer succeeded (true before any).
func (r *PrintRunner) Up(printer string) bool {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	up, seen := r.up[printer]
	return up || !seen
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
	for _, j := range jobs {
		if ctx.Err() != nil {
			return time.Time{}
		}
		if now := time.Now(); j.NextAttempt.After(now) || down[j.Printer] {
			if next.IsZero() || j.NextAttempt.Before(next) {
				next = j.NextAttempt
			}
			continue
		}
		if err := r.attempt(ctx, &j); err != nil {
			// Keep the printer's order: later jobs wait for this one.
			down[j.Printer] = true
			if next.IsZero() || j.NextAttempt.Before(next) {
				next = j.NextAttempt
			}
		}
	}
	return next
}

func (r *PrintRunner) attempt(ctx context.Context, j *PrintJob) error {
	p, ok := r.Printers[j.Printer]
	var err error
	if !ok {
		err = Errorf(EPRINTER, "no printer named %q", j.Printer)
	} else {
		err = p.Print(ctx, j.ID, j.Data)
	}
	now := time.Now()
	j.Attempts++
	j.UpdatedAt = now
	result := "ok"
	if err != nil {
		result = "error"
		j.LastError = err.Error()
		j.NextAttempt = now.Add(backoff(j.Attempts))
		r.Logger.Warn("print failed", "job", j.ID, "printer", j.Printer, "attempts", j.Attempts, "error", err)
	} else {
		j.State, j.LastError = JobDone, ""
	}
	r.mu.Lock()
	r.up[j.Printer] = err == nil
	r.mu.Unlock()
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
