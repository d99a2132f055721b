package journal

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/dgraph-io/badger/v4"
)

// Print jobs live under pj/<id>; a job not done also has an index key
// pq/<created><id>, so PendingJobs reads only the jobs still to print, oldest
// first. Jobs are written with their operation by Append, then updated by the
// print runner through PutPrintJob.
//
// A job is stored as its JSON without the data, a newline, then the data:
// JSON would spell the printer bytes in base64, a third larger and slower to
// encode. JSON never holds a raw newline, so the first one splits. The data
// is deflated when that makes it smaller ("data_encoding":"deflate"; jobs
// stored before have no encoding and their data as it is): a receipt's
// ESC/POS raster of 16 to 35 KB deflates to 2 to 3 KB, and every byte
// written goes through Badger's memtables and table builders, whose buffers
// are most of the agent's memory under work (options.go).

// maxJobBytes bounds the stored form of a job (TOO_LARGE above): a value
// from Badger's value threshold up would be kept in its value log, which
// the journal's erasure does not rewrite (options.go).
const maxJobBytes = valueThreshold - 1

// encodingDeflate marks a job whose data is stored deflated.
const encodingDeflate = "deflate"

// storedJob is the JSON part of a stored job.
type storedJob struct {
	edge.PrintJob
	DataEncoding string `json:"data_encoding,omitempty"`
}

// deflaters holds flate writers: each holds about 1 MB of tables.
var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// encodeJob returns the stored form of job; TOO_LARGE if it reaches
// maxJobBytes.
func encodeJob(job edge.PrintJob) ([]byte, error) {
	var data bytes.Buffer
	data.Grow(len(job.Data) / 4)
	zw := deflaters.Get().(*flate.Writer)
	zw.Reset(&data)
	_, err := zw.Write(job.Data)
	if err == nil {
		err = zw.Close()
	}
	deflaters.Put(zw)
	if err != nil {
		return nil, err
	}
	sj := storedJob{PrintJob: job}
	sj.Data = job.Data
	if data.Len() < len(job.Data) {
		sj.Data, sj.DataEncoding = data.Bytes(), encodingDeflate
	}
	body := sj.Data
	sj.PrintJob.Data = nil
	meta, err := json.Marshal(sj)
	if err != nil {
		return nil, err
	}
	if n := len(meta) + 1 + len(body); n > maxJobBytes {
		return nil, edge.Errorf(edge.ETOOLARGE, "The print job is %d bytes stored, over %d.", n, maxJobBytes)
	}
	v := make([]byte, 0, len(meta)+1+len(body))
	v = append(append(append(v, meta...), '\n'), body...)
	return v, nil
}

// decodeJob parses the stored form of a job; it copies the data out of v.
func decodeJob(v []byte, job *edge.PrintJob) error {
	enc, body, err := splitJob(v, job)
	if err != nil {
		return err
	}
	switch enc {
	case "":
		job.Data = append([]byte(nil), body...)
	case encodingDeflate:
		job.Data, err = io.ReadAll(flate.NewReader(bytes.NewReader(body)))
		if err != nil {
			return fmt.Errorf("inflate data: %w", err)
		}
	default:
		return fmt.Errorf("unknown data encoding %q", enc)
	}
	return nil
}

// decodeJobMeta parses the stored form of a job but its data, for readers
// that need only its state and times.
func decodeJobMeta(v []byte, job *edge.PrintJob) error {
	_, _, err := splitJob(v, job)
	return err
}

// splitJob parses the stored form of a job but its data, which it returns
// as stored, with its encoding.
func splitJob(v []byte, job *edge.PrintJob) (encoding string, body []byte, err error) {
	i := bytes.IndexByte(v, '\n')
	if i < 0 {
		return "", nil, fmt.Errorf("no separator")
	}
	var sj storedJob
	if err := json.Unmarshal(v[:i], &sj); err != nil {
		return "", nil, err
	}
	*job = sj.PrintJob
	return sj.DataEncoding, v[i+1:], nil
}

// PendingJobs returns the jobs not yet done, oldest first, without their
// data.
func (j *Journal) PendingJobs(ctx context.Context) ([]edge.PrintJob, error) {
	if err := ctxErr(ctx, "pending jobs"); err != nil {
		return nil, err
	}
	jobs := []edge.PrintJob{}
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixJobQ})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id := string(it.Item().Key()[len(prefixJobQ)+8:])
			job, ok, err := getJobMeta(txn, id)
			if err != nil {
				return err
			} else if ok {
				jobs = append(jobs, job)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal pending jobs: %w", err)
	}
	return jobs, nil
}

// PrintJob returns the job with id; ENOTFOUND if there is none.
func (j *Journal) PrintJob(ctx context.Context, id string) (edge.PrintJob, error) {
	if err := ctxErr(ctx, "print job"); err != nil {
		return edge.PrintJob{}, err
	}
	var job edge.PrintJob
	var ok bool
	err := j.db.View(func(txn *badger.Txn) (err error) {
		job, ok, err = getJob(txn, id)
		return err
	})
	if err != nil {
		return edge.PrintJob{}, fmt.Errorf("journal print job: %w", err)
	} else if !ok {
		return edge.PrintJob{}, edge.Errorf(edge.ENOTFOUND, "Print job %q not found.", id)
	}
	return job, nil
}

// PutPrintJob creates or replaces a job, durably. INVALID if it has no id.
func (j *Journal) PutPrintJob(ctx context.Context, job edge.PrintJob) error {
	job, err := job.Checked(time.Now())
	if err != nil {
		return err
	}
	raw, err := encodeJob(job)
	if err != nil {
		return fmt.Errorf("journal put print job: %w", err)
	}
	err = j.write(ctx, true, func() error {
		return j.db.Update(func(txn *badger.Txn) error {
			// The queue key holds the creation time, which a caller may
			// have changed: drop the old one before writing the new.
			old, ok, err := getJob(txn, job.ID)
			if err != nil {
				return err
			}
			if ok {
				if err := txn.Delete(jobQueueKey(old.CreatedAt, old.ID)); err != nil {
					return err
				}
			}
			if err := txn.Set(strKey(prefixJob, job.ID), raw); err != nil {
				return err
			}
			if job.State != edge.JobDone {
				return txn.Set(jobQueueKey(job.CreatedAt, job.ID), nil)
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("journal put print job: %w", err)
	}
	return nil
}

// getJob reads job id with its data.
func getJob(txn *badger.Txn, id string) (edge.PrintJob, bool, error) {
	return readJob(txn, id, decodeJob)
}

// getJobMeta reads job id without its data.
func getJobMeta(txn *badger.Txn, id string) (edge.PrintJob, bool, error) {
	return readJob(txn, id, decodeJobMeta)
}

func readJob(txn *badger.Txn, id string, decode func([]byte, *edge.PrintJob) error) (edge.PrintJob, bool, error) {
	var job edge.PrintJob
	item, err := txn.Get(strKey(prefixJob, id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return job, false, nil
	} else if err != nil {
		return job, false, err
	}
	if err := item.Value(func(v []byte) error { return decode(v, &job) }); err != nil {
		return job, false, fmt.Errorf("decode print job %q: %w", id, err)
	}
	return job, true, nil
}
