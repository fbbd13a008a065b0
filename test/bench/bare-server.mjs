// Baseline for the ingest benchmark: a bare Express 5 app that parses the same JSON and answers 200.
import express from 'express';

const app = express();
app.post('/webhook', express.json({ limit: '4mb' }), (req, res) => {
  if (!req.body || typeof req.body !== 'object') return res.sendStatus(400);
  res.status(200).type('text/plain').send('EVENT_RECEIVED');
});
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: server.address().port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
