package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// Deposit returns a deposit of terminal tid shaped like those of loadgen and
// of a real counter: a tracking number, a deposit's data and a receipt id.
func Deposit(tid string, seq uint64, at time.Time) edge.Operation {
	o := edge.NewOperation(edge.OpReturnDeposited, at, "loadgen", fmt.Sprintf("LG%s%07dFR", tid[max(0, len(tid)-4):], seq),
		edge.DepositData{Verified: true, Mode: edge.ModeLabelAtCounter, WeightG: 1200, ReceiptID: fmt.Sprintf("r-%d", seq), ShelfSlot: "A1"})
	o.ID, o.Terminal, o.Seq = fmt.Sprintf("%s-%d", tid, seq), tid, seq
	return o
}

// BenchFleet measures s the way the ingest uses it: batches of batch
// deposits from terminals terminals, stored by workers goroutines at once
// (a terminal's batches always by the same worker, in order). The
// operations are made before the clock starts. It reports events/s and the
// process's CPU time (user + system, every goroutine including the store's
// own) per event, which says how many events one core can store.
func BenchFleet(b *testing.B, s cloud.Store, terminals, batch, workers int) {
	ctx := context.Background()
	at := time.Now().UTC()
	type job struct {
		tid string
		evs []edge.Operation
	}
	// b.N rounds, each one batch from every terminal.
	jobs := make([][]job, workers)
	for n := 0; n < b.N; n++ {
		for t := 0; t < terminals; t++ {
			tid := fmt.Sprintf("bench-%05d", t)
			evs := make([]edge.Operation, batch)
			for i := range evs {
				evs[i] = Deposit(tid, uint64(n*batch+i+1), at)
			}
			w := t % workers
			jobs[w] = append(jobs[w], job{tid, evs})
		}
	}
	cpu0 := CPUTime()
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for _, js := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, j := range js {
				if _, err := s.StoreEvents(ctx, j.tid, j.evs, at); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	events := float64(b.N * terminals * batch)
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64((CPUTime()-cpu0).Microseconds())/events, "cpu_us/event")
}

// CPUTime returns the CPU time the process has used (user and system).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchReturnSteps measures the ingest of returns' steps in s, the events
// whose parcels the reports count: batches of 256 deposits naming their
// RA (with two items), then 256 handovers; events/s and CPU us an event
// (the process's). The returns are created with the clock stopped. When
// server is not nil it reads the CPU time its database server has used
// for s (PostgreSQL's backends, false when not on this machine), reported
// as db_cpu_us/event.
func BenchReturnSteps(b *testing.B, s cloud.Store, server func() (time.Duration, bool)) {
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if err := s.CreateMerchant(ctx, cloud.Merchant{ID: "acme", Name: "ACME", CreatedAt: at}); err != nil {
		b.Fatal(err)
	}
	items := []edge.Item{{SKU: "S1", Qty: 1, Reason: edge.ReasonChangedMind}, {SKU: "S2", Qty: 1, Reason: edge.ReasonWrongSize}}
	seq := uint64(0)
	var cpu, db time.Duration
	dbOK := server != nil
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		deps, hands := make([]edge.Operation, 256), make([]edge.Operation, 256)
		for j := range deps {
			n := i*256 + j
			r := cloud.Return{ID: fmt.Sprintf("ra-%d", n), Merchant: "acme", Tracking: fmt.Sprintf("RS%09dFR", n), Carrier: "DEMO", Items: items, CreatedAt: at, Token: "t"}
			if err := s.CreateReturn(ctx, r); err != nil {
				b.Fatal(err)
			}
			seq++
			deps[j] = Op("t-1", seq, edge.OpReturnDeposited, r.Tracking, at.Add(time.Hour))
			deps[j].Data, _ = json.Marshal(edge.DepositData{RAID: r.ID, Verified: true, Mode: edge.ModeLabelAtCounter, Items: items, ReceiptID: "r"})
		}
		for j := range hands {
			seq++
			hands[j] = Op("t-1", seq, edge.OpParcelHandedOver, deps[j].Tracking, at.Add(3*time.Hour))
		}
		b.StartTimer()
		var d0 time.Duration
		if dbOK {
			d0, dbOK = server()
		}
		c0 := CPUTime()
		for _, evs := range [][]edge.Operation{deps, hands} {
			if _, err := s.StoreEvents(ctx, "t-1", evs, at); err != nil {
				b.Fatal(err)
			}
		}
		cpu += CPUTime() - c0
		if dbOK {
			var d1 time.Duration
			d1, dbOK = server()
			db += d1 - d0
		}
	}
	b.ReportMetric(float64(b.N*512)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*512), "cpu_us/event")
	if dbOK {
		b.ReportMetric(float64(db.Microseconds())/float64(b.N*512), "db_cpu_us/event")
	}
}
