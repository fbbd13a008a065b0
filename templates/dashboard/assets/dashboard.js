// wa-report dashboard: progressive enhancement only (every page works without this file).
// Shows the custom dates only for a custom period, applies a filter as soon as it changes,
// and refreshes the overview when something new is stored, when asked.
(function () {
  'use strict';
  document.documentElement.classList.add('js');
  for (const form of document.querySelectorAll('form[data-autosubmit]')) {
    const period = form.querySelector('select[name="period"]');
    const sync = () => period && form.setAttribute('data-preset', period.value);
    sync();
    form.addEventListener('change', (event) => {
      const target = event.target;
      sync();
      // Typed fields wait for Enter or the button; choices apply at once.
      if (target instanceof HTMLSelectElement || (target instanceof HTMLInputElement && target.type === 'checkbox')) {
        if (target.name === 'period' && target.value === 'custom') return;
        form.requestSubmit();
      }
    });
  }
  // Live refresh: the server streams its watermark (the newest message and status ids, /dashboard/live);
  // the page reloads when it is not the one the page was drawn with, at most every 5 s. Without
  // EventSource, or when the stream is refused, every 30 s.
  const live = document.querySelector('input[data-live]');
  if (live) {
    const drawnWith = live.getAttribute('data-live');
    let source = null;
    let timer = null;
    let pending = null;
    const loadedAt = Date.now();
    const reload = () => {
      if (pending) return;
      pending = setTimeout(() => location.reload(), Math.max(0, loadedAt + 5000 - Date.now()));
    };
    const arm = () => {
      if (source) source.close();
      clearInterval(timer);
      clearTimeout(pending);
      source = timer = pending = null;
      if (!live.checked) return;
      if (typeof EventSource !== 'function') {
        timer = setInterval(() => location.reload(), 30000);
        return;
      }
      source = new EventSource('/dashboard/live');
      source.addEventListener('stored', (event) => {
        if (JSON.parse(event.data) !== drawnWith) reload();
      });
      // Dropped connections (a daemon restarting) are retried by EventSource itself. Refused for good
      // (the session ended, too many pages open): back to reloading every 30 s.
      source.addEventListener('error', () => {
        if (!source || source.readyState !== EventSource.CLOSED) return;
        source = null;
        timer = setInterval(() => location.reload(), 30000);
      });
    };
    live.addEventListener('change', () => {
      const url = new URL(location.href);
      if (live.checked) url.searchParams.set('live', '1');
      else url.searchParams.delete('live');
      history.replaceState(null, '', url);
      arm();
    });
    arm();
  }
})();
