package pgstore

// ScanReportRows reads report rows, for tests that compare the reports
// with another query of the same columns.
var ScanReportRows = scanReportRows
