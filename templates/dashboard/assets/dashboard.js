// wa-report dashboard: progressive enhancement only (every page works without this file).
// Shows the custom dates only for a custom period, applies a filter as soon as it changes,
// and refreshes the overview every 30 s when asked.
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
  const live = document.querySelector('input[data-live]');
  if (live) {
    let timer = null;
    const arm = () => {
      clearInterval(timer);
      if (live.checked) timer = setInterval(() => location.reload(), 30000);
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
