// What `wa-report --help` says after the commands: every environment variable, the exit codes, examples.
export const ENVIRONMENT_HELP = `
Environment variables (flags override them):
  DATABASE_URL                 Database: a SQLite file path, file:…, or postgresql://user@host:5432/db
                               (default: \${XDG_DATA_HOME:-~/.local/share}/wa-report/wa-report.db)
  XDG_DATA_HOME                Where the default SQLite database lives
  PORT, HOST                   Where \`wa-report ingest\` listens (default 8082, all interfaces)
  WHATSAPP_VERIFY_TOKEN        Token Meta sends in the webhook verification handshake
  WHATSAPP_APP_SECRET          App secret that signs webhooks (X-Hub-Signature-256)
  WHATSAPP_ACCESS_TOKEN        Token for sending replies through the Graph API
  WHATSAPP_GRAPH_URL           Graph API base URL (default https://graph.facebook.com/v26.0)
  OPENAI_API_KEY               Key for the assistant's model
  OPENAI_BASE_URL              OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, LM Studio, …)
  OPENAI_MODEL                 Default model of the assistant
  WA_REPORT_API_TOKEN          Bearer token for the reporting HTTP API (see also \`wa-report tokens\`)
  WA_REPORT_API_TOKEN_SCOPE    read (default) or admin: may that token export and erase contacts
  WA_REPORT_TRUST_PROXY        Behind a reverse proxy: Express "trust proxy" (loopback, hop count, addresses)
  WA_REPORT_ENCRYPTION_KEY     Key (base64, 32 bytes) that encrypts message content at rest
                               (\`wa-report keys generate\`)
  WA_REPORT_ENCRYPTION_KEYS_OLD  Older keys still accepted for reading, during a rotation (comma-separated)
  WA_REPORT_ARCHIVE_AFTER, WA_REPORT_ARCHIVE_DIR  Daemon retention (--archive-after 365d, --archive-dir …)
  WA_REPORT_CONTEXT_MESSAGES   Messages of history sent to the model (default 10)
  WA_REPORT_MODEL_API          chat (Chat Completions, default) or responses (OpenAI Responses API)
  WA_REPORT_OPENAI_TIMEOUT_MS  Time limit of one model call (default 60000)
  WA_REPORT_QUEUE_MAX_ROWS     Rows waiting to be written before webhooks get 503 (default 50000)
  WA_REPORT_REPLY_CONCURRENCY  Conversations answered at the same time (default 32)
  WA_REPORT_CONVERSATION_IDLE  A conversation ends after this long without a message (default 1h; per client:
                               clients update --conversation-idle)
  WA_REPORT_WEBHOOK_RETRY      Delays between event webhook attempts (default 5s,5m,30m,2h,5h,10h,10h)
  WA_REPORT_WEBHOOK_LEASE      How long a daemon's claim on a delivery holds if it dies (default 60s)
  WA_REPORT_WEBHOOKS_ALLOW_PRIVATE  1: event webhooks may go to loopback and private addresses
  LOG_LEVEL                    Daemon log level: fatal, error, warn, info, debug, trace
  NO_COLOR, FORCE_COLOR        Turn colours off / on

Exit codes:
  0 ok · 1 failure · 2 usage error · 3 not found · 4 authentication · 130 cancelled

Examples:
  wa-report                                          Interactive picker (on a terminal)
  wa-report demo                                     Sample data through the real pipeline
  wa-report --list                                   Active clients
  wa-report --client-id 1 --format summary           Summary of a client's conversations
  wa-report --client-id 1 --wa-id +34123456789 --format detailed
  wa-report export --client-id 1 --format html -o report.html
  wa-report stats --since 7d
  wa-report clients add --name Released --phone-number +15556383785 --phone-number-id 106540352242922
  wa-report clients update 1 --assistant --system-prompt-file prompt.txt
  wa-report clients list --json | jq '.clients[].name'
  wa-report contact erase --wa-id +34612345678 --force
  wa-report archive --before 2024-01-01 --out archive-2023.jsonl.gz
  wa-report tokens create --name grafana --scope read
  wa-report --db postgresql://wa@db.internal:5432/wa_report db status
  DATABASE_URL=./wa-report.db wa-report db migrate
`;
