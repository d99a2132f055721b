package edge_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/comptoir/comptoir/edge"
)

// BenchmarkHandover hands 50 parcels to the driver at once. The Desk
// journals the 50 parcel.handed_over and the manifest.closed in one durable
// write (AppendAll); "serial" appends the same 51 operations (for the
// parcels on the shelf, then their manifest) one durable Append after
// another, as a peer to compare with. Both empty the shelf, so every round
// starts from the same 50 parcels.
func BenchmarkHandover(b *testing.B) {
	const parcels = 50
	ctx := context.Background()
	fill := func(b *testing.B, c *counter) []string {
		b.StopTimer()
		defer b.StartTimer()
		for i := range parcels {
			c.deposit(b, fmt.Sprintf("ra-%d", i))
		}
		return c.shelfTrackings(b)
	}
	b.Run("desk", func(b *testing.B) {
		c := newDiskCounter(b, nil)
		for b.Loop() {
			fill(b, c)
			if _, err := c.desk.Handover(ctx, edge.HandoverRequest{All: true}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*parcels), "µs/parcel")
	})
	b.Run("serial", func(b *testing.B) {
		c := newDiskCounter(b, nil)
		for round := 0; b.Loop(); round++ {
			trackings := fill(b, c)
			if len(trackings) != parcels {
				b.Fatalf("%d parcels on the shelf, want %d", len(trackings), parcels)
			}
			manifest := fmt.Sprintf("m-%d", round)
			ops := make([]edge.Operation, 0, parcels+1)
			for _, trk := range trackings {
				ops = append(ops, edge.NewOperation(edge.OpParcelHandedOver, c.now, "", trk, edge.HandedOverData{ManifestID: manifest, Carrier: "DEMO"}))
			}
			ops = append(ops, edge.NewOperation(edge.OpManifestClosed, c.now, "", "", edge.ManifestData{ManifestID: manifest, Carrier: "DEMO", Count: parcels, Trackings: trackings}))
			for _, op := range ops {
				if _, err := c.j.Append(ctx, op); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*parcels), "µs/parcel")
	})
}
