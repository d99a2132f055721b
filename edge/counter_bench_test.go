package edge_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/comptoir/comptoir/edge"
)

// BenchmarkHandover hands 50 parcels to the driver at once. The Desk
// journals the 50 parcel.handed_over and the manifest in one durable write
// (AppendAll); "serial" appends the same operations one after another, as a
// peer to compare with.
func BenchmarkHandover(b *testing.B) {
	const parcels = 50
	ctx := context.Background()
	fill := func(b *testing.B, c *counter) {
		b.StopTimer()
		for i := range parcels {
			c.deposit(b, fmt.Sprintf("ra-%d", i))
		}
		b.StartTimer()
	}
	b.Run("desk", func(b *testing.B) {
		c := newCounter(b, nil)
		for b.Loop() {
			fill(b, c)
			if _, err := c.desk.Handover(ctx, edge.HandoverRequest{All: true}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*parcels), "µs/parcel")
	})
	b.Run("serial", func(b *testing.B) {
		c := newCounter(b, nil)
		for b.Loop() {
			fill(b, c)
			for i := range parcels {
				op := edge.NewOperation(edge.OpParcelHandedOver, c.now, "", fmt.Sprintf("TRK-%d", i), edge.HandedOverData{ManifestID: "m", Carrier: "DEMO"})
				if _, err := c.j.Append(ctx, op); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*parcels), "µs/parcel")
	})
}
