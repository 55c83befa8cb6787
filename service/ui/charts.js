// Small inline-SVG charts for the console: bars with an optional limit line and an optional
// second series drawn as a line on its own scale. No library; every label is text, and the
// chart carries a <title> and aria-label for screen readers.
'use strict';

window.CD = window.CD || {};

(function (CD) {
  const W = 720, H = 240, LEFT = 44, RIGHT = 44, TOP = 12, BOTTOM = 36;

  function niceMax(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  // opts: {title, labels[], values[], limit?, limitLabel?, line?: {values[], label}, unit}
  CD.barChart = function (opts) {
    const el = CD.el;
    const n = opts.values.length;
    const top = niceMax(Math.max(opts.limit || 0, ...opts.values, 0) * 1.1);
    const plotW = W - LEFT - RIGHT, plotH = H - TOP - BOTTOM;
    const x = (i) => LEFT + (n ? (i * plotW) / n : 0);
    const y = (v) => TOP + plotH - (v / top) * plotH;
    const bw = n ? Math.max(1, plotW / n - 2) : 0;
    const svg = el('svg', {
      class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opts.title,
    }, [el('title', {}, opts.title)]);
    svg.appendChild(el('line', {class: 'axis', x1: LEFT, y1: TOP + plotH, x2: W - RIGHT,
                                y2: TOP + plotH}));
    for (const f of [0, 0.5, 1]) {
      svg.appendChild(el('text', {x: LEFT - 6, y: y(top * f) + 4, 'text-anchor': 'end'},
                         String(Math.round(top * f))));
    }
    opts.values.forEach((v, i) => {
      const over = opts.limit && v > opts.limit;
      const bar = el('rect', {class: over ? 'bar over' : 'bar', x: x(i) + 1, y: y(v), width: bw,
                              height: Math.max(0, TOP + plotH - y(v))},
                     [el('title', {}, `${opts.labels[i]}: ${v} ${opts.unit || ''}`)]);
      svg.appendChild(bar);
    });
    const step = Math.max(1, Math.ceil(n / 6));
    for (let i = 0; i < n; i += step) {
      svg.appendChild(el('text', {x: x(i) + bw / 2, y: H - BOTTOM + 16, 'text-anchor': 'middle'},
                         opts.labels[i]));
    }
    if (opts.limit) {
      svg.appendChild(el('line', {class: 'budget', x1: LEFT, x2: W - RIGHT, y1: y(opts.limit),
                                  y2: y(opts.limit)}));
      svg.appendChild(el('text', {x: W - RIGHT + 4, y: y(opts.limit) + 4},
                         opts.limitLabel || String(opts.limit)));
    }
    if (opts.line && opts.line.values.length) {
      const lmax = niceMax(Math.max(...opts.line.values, 0) * 1.1);
      const ly = (v) => TOP + plotH - (Math.max(0, v) / lmax) * plotH;
      const points = opts.line.values.map((v, i) => `${x(i) + bw / 2},${ly(v)}`).join(' ');
      svg.appendChild(el('polyline', {class: 'depth', points}));
      svg.appendChild(el('text', {x: W - 4, y: TOP + 8, 'text-anchor': 'end'},
                         `${opts.line.label} max ${lmax}`));
    }
    if (!n) {
      svg.appendChild(el('text', {x: W / 2, y: H / 2, 'text-anchor': 'middle'}, 'no data yet'));
    }
    return svg;
  };

  // A horizontal stacked bar of item counts: succeeded, failed, invalid (rows refused at intake,
  // never sent), running, queued.
  CD.progressBar = function (counts) {
    const el = CD.el;
    const total = counts.total || 0;
    const parts = ['succeeded', 'failed', 'invalid', 'running', 'queued'];
    const label = parts.map((p) => `${counts[p] || 0} ${p}`).join(', ') +
                  (counts.cancelled ? `, ${counts.cancelled} cancelled` : '');
    const bar = el('div', {class: 'progress', role: 'img', 'aria-label': label, title: label});
    for (const p of parts) {
      if (!total || !counts[p]) continue;
      const seg = el('span', {class: p});
      seg.style.width = (100 * counts[p] / total) + '%';
      bar.appendChild(seg);
    }
    return bar;
  };
})(window.CD);
