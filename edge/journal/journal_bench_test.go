package journal

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/dgraph-io/badger/v4"
)

// benchDeposit is a deposit as the Desk journals it: an RA with two items.
func benchDeposit(n int64) edge.Operation {
	tracking := fmt.Sprintf("XY%09dFR", n)
	op := edge.NewOperation(edge.OpReturnDeposited, time.Now(), "0190a0a0-0000-7000-8000-00000000c1e4", tracking, edge.DepositData{
		RAID: fmt.Sprintf("0190a0a0-0000-7000-8000-%012d", n), Issuer: "shop-fr-1", Carrier: "colis-fr", Verified: true,
		Mode: "label_at_counter", WeightG: 1200, DimsMM: []int{300, 200, 100},
		Items: []edge.Item{
			{SKU: "TSHIRT-BLK-M", Name: "T-shirt noir M", Qty: 1, Reason: "WRONG_SIZE"},
			{SKU: "JEANS-32", Name: "Jean slim 32", Qty: 1, Reason: "CHANGED_MIND"},
		},
		ReceiptID: fmt.Sprintf("0190a0a0-0000-7000-8000-%012d", n+1), ShelfSlot: fmt.Sprintf("%03d", n%500),
	})
	return op
}

func reportRate(b *testing.B, j *Journal, syncs0 int64) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	if syncs := j.syncs.Load() - syncs0; syncs > 0 {
		b.ReportMetric(float64(b.N)/float64(syncs), "ops/sync")
	}
}

// BenchmarkAppendSerial appends from one goroutine: every append waits for
// its own fsync.
func BenchmarkAppendSerial(b *testing.B) { benchAppendSerial(b, Config{}) }

// BenchmarkAppendSerialEncrypted is BenchmarkAppendSerial on an encrypted
// journal (AES-256 of Badger): the target is at most 20 % slower.
func BenchmarkAppendSerialEncrypted(b *testing.B) {
	benchAppendSerial(b, Config{EncryptionKey: testKey(b)})
}

func benchAppendSerial(b *testing.B, cfg Config) {
	j := MustOpen(b, "", cfg)
	ctx := context.Background()
	syncs := j.syncs.Load()
	b.ResetTimer()
	for i := range b.N {
		if _, err := j.Append(ctx, benchDeposit(int64(i))); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRate(b, j, syncs)
}

// BenchmarkAppendConcurrent appends from 32 goroutines per CPU (64 on two
// cores): group commit shares each fsync among the waiting appends.
func BenchmarkAppendConcurrent(b *testing.B) {
	j := MustOpen(b, "", Config{})
	ctx := context.Background()
	var n atomic.Int64
	syncs := j.syncs.Load()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := j.Append(ctx, benchDeposit(n.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	reportRate(b, j, syncs)
}

// BenchmarkAppendConcurrentWithJobs is BenchmarkAppendConcurrent with the
// label (ZPL) and receipt (ESC/POS) print jobs of each deposit.
func BenchmarkAppendConcurrentWithJobs(b *testing.B) { benchAppendWithJobs(b, Config{}) }

// BenchmarkAppendConcurrentWithJobsEncrypted is
// BenchmarkAppendConcurrentWithJobs on an encrypted journal.
func BenchmarkAppendConcurrentWithJobsEncrypted(b *testing.B) {
	benchAppendWithJobs(b, Config{EncryptionKey: testKey(b)})
}

func benchAppendWithJobs(b *testing.B, cfg Config) {
	j := MustOpen(b, "", cfg)
	ctx := context.Background()
	var n atomic.Int64
	jobs := benchJobs(edge.JobPending, time.Now())
	syncs := j.syncs.Load()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := j.Append(ctx, benchDeposit(n.Add(1)), jobs...); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	reportRate(b, j, syncs)
}

func benchJobs(state string, at time.Time) []edge.PrintJob {
	zpl := "^XA^CI28^FO50,50^A0N,40,40^FDcolis-fr^FS^FO50,120^BCN,120,Y,N,N^FDXY123456789FR^FS" +
		strings.Repeat("^FO50,300^A0N,30,30^FH^FDEntrep\\C3\\B4t retours, 12 rue des Lilas, 69000 Lyon^FS", 12) + "^XZ"
	escpos := "\x1b@\x1ba\x01Relais Tabac du Centre\n" + strings.Repeat("Colis XY123456789FR  1,2 kg  22/11/2026 10:15\n", 12) +
		"\x1d(k\x03\x001C\x06" + strings.Repeat("Q", 300) + "\x1dV\x00"
	return []edge.PrintJob{
		{Printer: edge.PrinterLabel, Format: edge.FormatZPL, Data: []byte(zpl), State: state, UpdatedAt: at},
		{Printer: edge.PrinterReceipt, Format: edge.FormatESCPOS, Data: []byte(escpos), State: state, UpdatedAt: at},
	}
}

// BenchmarkDiskPerOp measures the disk a journalled operation takes once
// the terminal is in its steady state: deposits (with their print jobs, done
// and older than the retention) handed over to the carrier, everything acked,
// Compact run and Badger's tables compacted. History is kept: only the print
// jobs go. Each iteration is one operation (half deposits, half handovers);
// ns/op includes the compaction.
func BenchmarkDiskPerOp(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	j := MustOpen(b, dir, Config{})
	ops := max(b.N, 2)
	jobs := benchJobs(edge.JobDone, time.Now().Add(-48*time.Hour))
	b.ResetTimer()
	var n atomic.Int64
	var err atomic.Value
	done := make(chan struct{})
	for range 64 {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				i := n.Add(1)
				if i > int64(ops) {
					return
				}
				var e error
				if i%2 == 1 {
					_, e = j.Append(ctx, benchDeposit(i), jobs...)
				} else {
					_, e = j.Append(ctx, edge.NewOperation(edge.OpParcelHandedOver, time.Now(), "", fmt.Sprintf("XY%09dFR", i-1),
						edge.HandedOverData{ManifestID: "0190a0a0-0000-7000-8000-000000000001", Carrier: "colis-fr", DriverRef: "D42"}))
				}
				if e != nil {
					err.Store(e)
					return
				}
			}
		}()
	}
	for range 64 {
		<-done
	}
	if e := err.Load(); e != nil {
		b.Fatal(e)
	}
	if got := j.LastSeq(); got != uint64(ops) {
		b.Fatalf("last seq %d, want %d", got, ops)
	}
	before := j.DiskUsage()
	if err := j.Ack(ctx, 1, uint64(ops)); err != nil {
		b.Fatal(err)
	}
	if _, err := j.Compact(ctx, time.Hour); err != nil {
		b.Fatal(err)
	}
	if err := j.Close(); err != nil {
		b.Fatal(err)
	}
	// Flatten pushes every table to one level, where overwritten counters,
	// deleted outbox markers, shelf entries and print jobs are dropped.
	db, e := badger.Open(badgerOptions(dir, j.logger))
	if e != nil {
		b.Fatal(e)
	}
	if err := db.Flatten(2); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(before)/float64(ops), "bytes/op-disk-before")
	b.ReportMetric(float64(dirUsage(dir))/float64(ops), "bytes/op-disk")
	b.ReportMetric(float64(ops), "ops")
}

// BenchmarkDrain measures how fast the uplink can drain the outbox: Pending
// in batches of wire.MaxBatchEvents, each acked at once, as if the cloud
// answered instantly. Each iteration is one operation; filling the outbox is
// not timed.
func BenchmarkDrain(b *testing.B) {
	ctx := context.Background()
	j := MustOpen(b, "", Config{})
	var n atomic.Int64
	done := make(chan struct{})
	for range 64 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := n.Add(1); i <= int64(b.N); i = n.Add(1) {
				if _, err := j.Append(ctx, benchDeposit(i)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	for range 64 {
		<-done
	}
	b.ResetTimer()
	drained, after := 0, uint64(0)
	for {
		ops, err := j.Pending(ctx, after, 256)
		if err != nil {
			b.Fatal(err)
		}
		if len(ops) == 0 {
			break
		}
		first, last := ops[0].Seq, ops[len(ops)-1].Seq
		if err := j.Ack(ctx, first, last); err != nil {
			b.Fatal(err)
		}
		drained, after = drained+len(ops), last
	}
	b.StopTimer()
	if drained != b.N {
		b.Fatalf("drained %d operations, want %d", drained, b.N)
	}
	if pending, _, _ := j.OutboxStats(ctx); pending != 0 {
		b.Fatalf("%d operations still pending", pending)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
