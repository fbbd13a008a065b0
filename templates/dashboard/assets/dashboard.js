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
  // Live refresh: the server streams its watermark (the newest message and status ids, "m.s";
  // /dashboard/live), and the page reloads when either id is past the ones it was drawn with: at
  // most once per data-live-min ms, never while the tab is hidden (then as it is shown again), and
  // every 5 minutes whatever happens (conversations that end by themselves, a rolling period).
  // Without EventSource, or when the stream is refused, every 30 s.
  const live = document.querySelector('input[data-live]');
  if (live) {
    const ids = (w) => String(w).split('.').map(Number);
    const drawn = ids(live.getAttribute('data-live'));
    const newer = (w) => ids(w).some((id, i) => id > (drawn[i] || 0));
    const least = Number(live.getAttribute('data-live-min')) || 15000;
    const loadedAt = Date.now();
    let source = null;
    let timer = null;
    let pending = null;
    let wanted = false;
    const reload = () => {
      wanted = true;
      if (pending || document.hidden) return;
      pending = setTimeout(() => location.reload(), Math.max(0, loadedAt + least - Date.now()));
    };
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && wanted && live.checked) reload();
    });
    const every = (ms) => {
      clearInterval(timer);
      timer = setInterval(reload, ms);
    };
    const arm = () => {
      if (source) source.close();
      clearInterval(timer);
      clearTimeout(pending);
      source = timer = pending = null;
      wanted = false;
      if (!live.checked) return;
      if (typeof EventSource !== 'function') return every(30000);
      every(300000);
      source = new EventSource('/dashboard/live');
      source.addEventListener('stored', (event) => {
        if (newer(JSON.parse(event.data))) reload();
      });
      // Dropped connections (a daemon restarting) are retried by EventSource itself. Refused for good
      // (the session ended, too many pages open): back to reloading every 30 s.
      source.addEventListener('error', () => {
        if (!source || source.readyState !== EventSource.CLOSED) return;
        source = null;
        every(30000);
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
