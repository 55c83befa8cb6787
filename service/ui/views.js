// The console's pages. Each view builds its skeleton once and returns {refresh(), live()}:
// refresh() re-reads its data through the REST API and redraws the data parts (filters and focus
// stay), live() says whether something runs, so that app.js refreshes it every few seconds.
'use strict';

window.CD = window.CD || {};

(function (CD) {
  const el = (...a) => CD.el(...a);
  const RUNNING = ['scheduled', 'running'];

  function when(text) {
    if (!text) return '';
    const d = new Date(text);
    return isNaN(d) ? text : d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  }
  function badge(status) { return el('span', {class: 'badge ' + status}, status); }
  function short(thumbprint) {
    return thumbprint ? el('span', {title: thumbprint}, thumbprint.slice(0, 12) + '…') : '';
  }
  function table(id, caption, headers, body) {  // body: a <tbody>
    return el('div', {class: 'table-wrap'}, el('table', {id, 'aria-label': caption}, [
      el('thead', {}, el('tr', {}, headers.map((h) => el('th', {scope: 'col'}, h)))),
      body,
    ]));
  }
  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
    const s = q.toString();
    return s ? '?' + s : '';
  }
  function selectOf(id, label, options) {
    return el('label', {for: id}, [label, el('select', {id},
        options.map((o) => el('option', {value: o}, o || 'any')))]);
  }
  // A list with a "More" button following the API's `next` link.
  function pager(container, more, render) {
    let next = null;
    more.addEventListener('click', async () => {
      if (!next) return;
      const page = await CD.api(next);
      container.append(...page.value.map(render));
      next = page.next || null;
      more.hidden = !next;
    });
    return (page) => {
      container.replaceChildren(...page.value.map(render));
      next = page.next || null;
      more.hidden = !next;
    };
  }

  CD.views = {};

  CD.views.rollouts = function (view) {
    const body = el('tbody');
    const more = el('button', {type: 'button', class: 'more', hidden: true}, 'More rollouts');
    let rows = [];
    const render = (r) => el('tr', {'data-id': r.id}, [
      el('td', {}, el('a', {href: '#/rollouts/' + encodeURIComponent(r.id)}, r.name)),
      el('td', {}, badge(r.status)),
      el('td', {}, r.currentWave ? `${r.currentWave} of ${r.waveCount}` : `– of ${r.waveCount}`),
      el('td', {}, when(r.startAt)),
      el('td', {}, [CD.progressBar(r.counts),
                    el('small', {}, `${r.counts.succeeded} ok · ${r.counts.failed} failed · ` +
                                    (r.counts.invalid ? `${r.counts.invalid} invalid · ` : '') +
                                    `${r.counts.queued + r.counts.running} to go`)]),
    ]);
    const show = pager(body, more, render);
    const status = selectOf('rollout-status-filter', 'Status',
        ['', 'scheduled', 'running', 'paused', 'succeeded', 'failed', 'cancelled']);
    view.append(el('h2', {}, 'Rollouts'),
                el('div', {class: 'toolbar'}, status),
                legend(),
                el('div', {class: 'table-wrap'}, el('table', {id: 'rollouts', 'aria-label': 'Rollouts'}, [
                  el('thead', {}, el('tr', {}, ['Name', 'Status', 'Wave', 'Starts',
                                                'Progress'].map((h) => el('th', {scope: 'col'}, h)))),
                  body])),
                more);
    const refresh = async () => {
      const page = await CD.api('/v1/rollouts' +
          query({status: status.querySelector('select').value, limit: 50}));
      rows = page.value;
      show(page);
      if (!rows.length) body.replaceChildren(el('tr', {}, el('td', {colspan: 5, class: 'empty'},
                                                             'No rollouts.')));
    };
    status.querySelector('select').addEventListener('change', refresh);
    return {refresh, live: () => rows.some((r) => RUNNING.includes(r.status))};
  };

  function legend() {
    return el('p', {class: 'legend', 'aria-hidden': 'true'},
              ['succeeded', 'failed', 'invalid', 'running', 'queued'].map(
                  (p) => el('span', {}, [el('i', {class: p}), p])));
  }

  CD.views.rollout = function (view, id) {
    let rollout = null;
    const title = el('h2', {}, 'Rollout');
    const facts = el('dl', {class: 'facts'});
    const actions = el('div', {class: 'toolbar', id: 'rollout-actions'});
    const waves = el('tbody');
    const items = el('tbody');
    const more = el('button', {type: 'button', class: 'more', hidden: true}, 'More items');
    const statusSel = selectOf('item-status', 'Status',
        ['', 'failed', 'queued', 'running', 'succeeded', 'cancelled']);
    const upn = el('input', {id: 'item-upn', type: 'search', placeholder: 'user@contoso.com'});
    const filter = el('form', {class: 'toolbar', id: 'item-filter', role: 'search'}, [
      statusSel, el('label', {for: 'item-upn'}, ['User (UPN)', upn]),
      el('button', {type: 'submit'}, 'Filter')]);
    // A row refused at intake is shown as invalid (its API status is failed, never sent).
    const renderItem = (it) => el('tr', {'data-line': it.line, 'data-status': it.status}, [
      el('td', {}, it.line), el('td', {}, it.userPrincipalName),
      el('td', {}, badge(it.invalid ? 'invalid' : it.status)),
      el('td', {class: 'mono'}, short(it.thumbprint)),
      el('td', {class: 'mono'}, it.error ? it.error.code : ''),
      el('td', {class: 'message'}, it.error ? it.error.message : ''),
      el('td', {class: 'mono'}, it.error ? it.error.requestId : ''),
      el('td', {}, it.findings.length ? el('ul', {class: 'findings'}, it.findings.map(
          (f) => el('li', {'data-code': f.code}, [el('strong', {}, f.code), ': ' + f.message])))
          : ''),
    ]);
    const showItems = pager(items, more, renderItem);

    async function act(action) {
      if (action === 'cancel' &&
          !window.confirm('Cancel this rollout? Its queued items will not be deployed.')) return;
      try {
        const r = await CD.api(`/v1/rollouts/${encodeURIComponent(id)}/${action}`, 'POST');
        CD.say(`Rollout ${r.status}.`);
      } catch (e) {
        if (e.status !== 401) CD.say(`Could not ${action}: ${e.message}`);
      }
      await refresh();
    }
    function drawActions() {
      actions.replaceChildren();
      if (!CD.can('rollouts') || !rollout) return;
      const s = rollout.status;
      if (s === 'scheduled' || s === 'running') {
        actions.append(el('button', {type: 'button', id: 'pause', onclick: () => act('pause')},
                          'Pause'));
      }
      if (s === 'paused') {
        actions.append(el('button', {type: 'button', id: 'resume', onclick: () => act('resume')},
                          'Resume'));
      }
      if (['scheduled', 'running', 'paused'].includes(s)) {
        actions.append(el('button', {type: 'button', id: 'cancel', class: 'danger',
                                     onclick: () => act('cancel')}, 'Cancel rollout'));
      }
    }
    async function loadItems() {
      const page = await CD.api(`/v1/rollouts/${encodeURIComponent(id)}/items` + query({
        status: statusSel.querySelector('select').value, upn: upn.value.trim(), limit: 100}));
      showItems(page);
      if (!page.value.length) {
        items.replaceChildren(el('tr', {}, el('td', {colspan: 8, class: 'empty'}, 'No items.')));
      }
    }
    async function refresh() {
      rollout = await CD.api('/v1/rollouts/' + encodeURIComponent(id));
      title.textContent = 'Rollout: ' + rollout.name;
      facts.replaceChildren(
          el('dt', {}, 'Status'), el('dd', {id: 'rollout-status'}, badge(rollout.status)),
          el('dt', {}, 'Current wave'),
          el('dd', {}, `${rollout.currentWave || '–'} of ${rollout.waves.length}`),
          el('dt', {}, 'Starts'), el('dd', {}, when(rollout.startAt)),
          el('dt', {}, 'Items'), el('dd', {}, CD.progressBar(rollout.counts)),
          el('dt', {}, 'Halts above'), el('dd', {}, rollout.haltOnFailurePercent + ' % failed'));
      drawActions();
      waves.replaceChildren(...rollout.waves.map((w) => el('tr', {}, [
        el('td', {}, w.wave), el('td', {}, w.percent + ' %'), el('td', {}, w.after || ''),
        el('td', {}, badge(w.state)), el('td', {}, when(w.startedAt)),
        el('td', {}, w.counts ? CD.progressBar(w.counts) : '')])));
      await loadItems();
    }
    filter.addEventListener('submit', (ev) => { ev.preventDefault(); loadItems(); });
    view.append(el('p', {}, el('a', {href: '#/rollouts'}, '← All rollouts')), title, facts,
                actions,
                el('h3', {}, 'Waves'),
                table('waves', 'Waves', ['Wave', 'Share', 'After', 'State', 'Started',
                                         'Progress'], waves),
                el('h3', {}, 'Items'), filter,
                table('items', 'Items', ['Line', 'User', 'Status', 'Thumbprint', 'Error',
                                         'Message', 'Graph request-id', 'Findings'], items),
                more);
    return {refresh, live: () => !!rollout && RUNNING.includes(rollout.status)};
  };

  CD.views.enrollments = function (view) {
    const body = el('tbody');
    const more = el('button', {type: 'button', class: 'more', hidden: true}, 'More enrollments');
    const upn = el('input', {id: 'enrollment-upn', type: 'search',
                             placeholder: 'user@contoso.com'});
    const statusSel = selectOf('enrollment-status', 'Status',
        ['', 'queued', 'running', 'succeeded', 'failed', 'cancelled']);
    const form = el('form', {class: 'toolbar', role: 'search'}, [
      el('label', {for: 'enrollment-upn'}, ['User (UPN)', upn]), statusSel,
      el('button', {type: 'submit'}, 'Search')]);
    let rows = [];
    const show = pager(body, more, (e) => el('tr', {}, [
      el('td', {}, when(e.createdAt)), el('td', {}, e.userPrincipalName),
      el('td', {}, badge(e.status)), el('td', {class: 'mono'}, short(e.thumbprint)),
      el('td', {class: 'mono'}, e.error ? e.error.code : ''),
      el('td', {class: 'message'}, e.error ? e.error.message : '')]));
    async function refresh() {
      const page = await CD.api('/v1/enrollments' + query({
        upn: upn.value.trim(), status: statusSel.querySelector('select').value, limit: 50}));
      rows = page.value;
      show(page);
      if (!rows.length) {
        body.replaceChildren(el('tr', {}, el('td', {colspan: 6, class: 'empty'},
                                             'No enrollments.')));
      }
    }
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      refresh().catch((e) => CD.say('Search failed: ' + e.message));
    });
    view.append(el('h2', {}, 'Enrollments'), form,
                table('enrollments', 'Recent enrollments',
                      ['Received', 'User', 'Status', 'Thumbprint', 'Error', 'Message'], body),
                more);
    return {refresh, live: () => rows.some((e) => e.status === 'queued' ||
                                                   e.status === 'running')};
  };

  CD.views.certificates = function (view) {
    const chart = el('div');
    const body = el('tbody');
    view.append(el('h2', {}, 'Certificates expiring in the next 12 weeks'), chart,
                table('expiring', 'Expiring soonest',
                      ['Expires', 'User', 'Purpose', 'Thumbprint', 'Status'], body));
    async function refresh() {
      const page = await CD.api('/v1/certificates?expiringWithinDays=84&pageSize=1000');
      const now = Date.now(), week = 7 * 24 * 3600 * 1000;
      const counts = new Array(12).fill(0);
      const rows = page.value.filter((c) => Date.parse(c.expirationDateTime) >= now);
      for (const c of rows) {
        const w = Math.floor((Date.parse(c.expirationDateTime) - now) / week);
        if (w >= 0 && w < 12) counts[w]++;
      }
      chart.replaceChildren(CD.barChart({
        title: 'Certificates expiring per week, next 12 weeks',
        labels: counts.map((_, i) => 'wk ' + (i + 1)), values: counts, unit: 'certificates'}));
      rows.sort((a, b) => Date.parse(a.expirationDateTime) - Date.parse(b.expirationDateTime));
      body.replaceChildren(...rows.slice(0, 25).map((c) => el('tr', {}, [
        el('td', {}, when(c.expirationDateTime)), el('td', {}, c.userPrincipalName),
        el('td', {}, c.intendedPurpose), el('td', {class: 'mono'}, short(c.thumbprint)),
        el('td', {}, c.status)])));
      if (!rows.length) {
        body.replaceChildren(el('tr', {}, el('td', {colspan: 5, class: 'empty'},
                                             'Nothing expires in the next 12 weeks.')));
      }
    }
    return {refresh, live: () => false};
  };

  CD.views.throughput = function (view) {
    const chart = el('div', {id: 'throughput-chart'});
    const summary = el('p');
    view.append(el('h2', {}, 'Graph writes per window, last hour'), summary,
                el('p', {class: 'legend'}, [
                  el('span', {}, [el('i', {class: 'bars'}), 'writes in the window']),
                  el('span', {}, [el('i', {class: 'budget'}), 'write budget']),
                  el('span', {}, [el('i', {class: 'depth'}), 'queue depth'])]),
                chart);
    async function refresh() {
      const t = await CD.api('/v1/throughput');
      const s = t.samples;
      const labels = s.map((x) => new Date(x.at).toISOString().slice(11, 16));
      chart.replaceChildren(CD.barChart({
        title: `Writes per ${t.windowSeconds} s window against the budget of ` +
               `${t.writesPerWindow}, and queue depth`,
        labels, values: s.map((x) => x.writes), limit: t.writesPerWindow,
        limitLabel: 'budget', unit: 'writes',
        line: {values: s.map((x) => x.queueDepth), label: 'queue'}}));
      const last = s.length ? s[s.length - 1] : null;
      summary.textContent = last
          ? `Last window: ${last.writes} writes of ${t.writesPerWindow} allowed per ` +
            `${t.windowSeconds} s; ${last.queueDepth} items queued.`
          : `No window completed yet (one every ${t.windowSeconds} s).`;
    }
    return {refresh, live: () => true};
  };
})(window.CD);
