// qarch report page: draws the six SVG charts (<svg data-chart="...">) from the report JSON
// embedded in <script id="qarch-data">. Vanilla JS, no dependencies, no network access.
// Each chart sets data-rendered="<number of marks>" on its <svg> when it is done. Any
// exception is shown on the page and logged with console.error, which the headless-Chromium
// test treats as a failure; the page logs nothing else.
(function () {
  'use strict';

  var NS = 'http://www.w3.org/2000/svg';
  // Paul Tol's "muted" qualitative scheme (personal.sron.nl/~pault): 9 colours that stay
  // distinct under the common colour-vision deficiencies; one per energy component.
  var PALETTE = ['#332288', '#88CCEE', '#44AA99', '#117733', '#999933', '#DDCC77', '#CC6677',
                 '#882255', '#AA4499'];
  var DASHES = ['', '6 3', '2 2', '8 3 2 3'];  // distinguish series once the colours repeat
  // viewBoxes: roofline and Pareto W x H, the three breakdowns SW x SH (three to a row), the
  // per-layer chart full width. Text is 11 user units, about 11 px at a 1400 px window.
  var W = 640, H = 390, SW = 460, SH = 400, LW = 1300;
  var errors = 0;

  function showError(where, e) {
    errors += 1;
    var msg = 'qarch report: ' + where + ': ' + (e && e.stack ? e.stack : String(e));
    console.error(msg);
    var box = document.getElementById('qarch-errors');
    if (box) {
      box.hidden = false;
      var p = document.createElement('div');
      p.textContent = 'Error while drawing ' + where + ': ' + (e && e.message ? e.message : e);
      box.appendChild(p);
    }
    document.body.setAttribute('data-errors', String(errors));
  }
  window.addEventListener('error', function (ev) {
    showError('page', ev.error || ev.message);
  });

  // ---- SVG helpers ----------------------------------------------------------------------

  function el(parent, name, attrs) {
    var node = document.createElementNS(NS, name);
    if (attrs) {
      for (var k in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, k) && attrs[k] !== undefined &&
            attrs[k] !== null) {
          node.setAttribute(k, String(attrs[k]));
        }
      }
    }
    parent.appendChild(node);
    return node;
  }
  function txt(parent, x, y, str, attrs) {
    var a = attrs || {};
    a.x = x;
    a.y = y;
    var t = el(parent, 'text', a);
    t.textContent = str;
    return t;
  }
  function tip(node, str) {
    el(node, 'title').textContent = str;
    return node;
  }
  function r1(v) { return Math.round(v * 10) / 10; }

  // ---- numbers --------------------------------------------------------------------------

  function fmt(v) {
    if (!isFinite(v)) return String(v);
    var a = Math.abs(v);
    if (a === 0) return '0';
    if (a >= 1e7 || a < 1e-3) return v.toExponential(2).replace('e+', 'e');
    return Number(v.toPrecision(4)).toLocaleString('en-US', {maximumFractionDigits: 6});
  }
  function fmtInt(v) { return Math.round(v).toLocaleString('en-US'); }
  // Counts on an axis: 150M rather than 1.50e8.
  function fmtSI(v) {
    var a = Math.abs(v);
    var units = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
    for (var i = 0; i < units.length; ++i) {
      if (a >= units[i][0]) return fmt(v / units[i][0]) + units[i][1];
    }
    return fmt(v);
  }
  // Picks the largest unit that keeps the biggest value >= 1: [[factor, label], ...] ascending.
  function pickUnit(maxv, units) {
    var u = units[0];
    for (var i = 0; i < units.length; ++i) {
      if (maxv >= units[i][0]) u = units[i];
    }
    return {f: u[0], name: u[1]};
  }
  var TIME_UNITS = [[1e-9, 'ns'], [1e-6, '\u00b5s'], [1e-3, 'ms'], [1, 's']];
  var ENERGY_UNITS = [[1, 'pJ'], [1e3, 'nJ'], [1e6, '\u00b5J'], [1e9, 'mJ'], [1e12, 'J']];

  // ---- scales ---------------------------------------------------------------------------

  function niceStep(span, n) {
    var raw = span / n;
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
  }
  // Linear scale over [lo, hi] extended to nice ticks, mapped to pixels [p0, p1].
  function linear(lo, hi, p0, p1) {
    if (!(hi > lo)) {  // one value or all zero: open a range around it
      var pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
      lo -= lo === 0 ? 0 : pad;
      hi += pad;
    }
    var step = niceStep(hi - lo, 5);
    lo = Math.floor(lo / step + 1e-9) * step;
    hi = Math.ceil(hi / step - 1e-9) * step;
    var f = function (v) { return p0 + (v - lo) / (hi - lo) * (p1 - p0); };
    f.ticks = [];
    for (var t = lo; t <= hi + step * 1e-6; t += step) f.ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    f.label = fmt;
    f.lo = lo;
    f.hi = hi;
    return f;
  }
  // Log10 scale over positive [lo, hi], whole decades.
  function logScale(lo, hi, p0, p1) {
    var a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi));
    if (b <= a) b = a + 1;
    var f = function (v) { return p0 + (Math.log10(v) - a) / (b - a) * (p1 - p0); };
    var every = Math.max(1, Math.ceil((b - a) / 8));
    f.ticks = [];
    for (var k = a; k <= b; k += every) f.ticks.push(Math.pow(10, k));
    f.label = function (v) {
      var e = Math.round(Math.log10(v));
      return e >= -3 && e <= 6 ? fmt(v) : '1e' + e;
    };
    f.lo = Math.pow(10, a);
    f.hi = Math.pow(10, b);
    return f;
  }

  // ---- chart frame ----------------------------------------------------------------------

  // Lays out legend rows at the top; returns the height used.
  function legend(svg, items, width) {
    if (!items.length) return 0;
    var g = el(svg, 'g', {'class': 'legend'});
    var x = 60, y = 14, rowH = 16;
    items.forEach(function (it) {
      var w = 22 + it.name.length * 6.3 + 14;
      if (x + w > width - 10 && x > 60) {
        x = 60;
        y += rowH;
      }
      if (it.shape === 'line') {
        el(g, 'line', {x1: x, y1: y - 4, x2: x + 14, y2: y - 4, stroke: it.color,
                       'stroke-width': 2.5, 'stroke-dasharray': it.dash || null});
      } else if (it.shape === 'circle') {
        el(g, 'circle', {cx: x + 6, cy: y - 4, r: it.r || 4.5, fill: it.color,
                         stroke: it.stroke || null, 'stroke-width': it.stroke ? 1.5 : null});
      } else {
        el(g, 'rect', {x: x, y: y - 10, width: 12, height: 12, fill: it.color, rx: 2});
      }
      txt(g, x + 18, y, it.name);
      x += w;
    });
    return y + 10;
  }

  // Creates the plot area: sets the viewBox, draws the legend and returns the inner box.
  function frame(svg, width, height, legendItems, bottom, left) {
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    var top = legend(svg, legendItems, width) + 14;
    return {x0: left || 70, x1: width - 18, y0: top, y1: height - bottom, w: width, h: height};
  }

  function yAxis(svg, box, scale, label) {
    var g = el(svg, 'g', {'class': 'axis'});
    var grid = el(svg, 'g', {'class': 'grid'});
    svg.insertBefore(grid, svg.firstChild);
    scale.ticks.forEach(function (t) {
      var y = r1(scale(t));
      el(grid, 'line', {x1: box.x0, x2: box.x1, y1: y, y2: y});
      el(g, 'line', {x1: box.x0 - 4, x2: box.x0, y1: y, y2: y});
      txt(g, box.x0 - 7, y + 3.5, scale.label(t), {'class': 'tick', 'text-anchor': 'end'});
    });
    el(g, 'line', {x1: box.x0, x2: box.x0, y1: box.y0, y2: box.y1});
    var cy = (box.y0 + box.y1) / 2;
    txt(g, 16, cy, label, {'class': 'axis-label', 'text-anchor': 'middle',
                           transform: 'rotate(-90 16 ' + cy + ')'});
  }

  function xAxisNumeric(svg, box, scale, label) {
    var g = el(svg, 'g', {'class': 'axis'});
    var grid = svg.querySelector('g.grid');
    scale.ticks.forEach(function (t) {
      var x = r1(scale(t));
      if (grid) el(grid, 'line', {x1: x, x2: x, y1: box.y0, y2: box.y1});
      el(g, 'line', {x1: x, x2: x, y1: box.y1, y2: box.y1 + 4});
      txt(g, x, box.y1 + 16, scale.label(t), {'class': 'tick', 'text-anchor': 'middle'});
    });
    el(g, 'line', {x1: box.x0, x2: box.x1, y1: box.y1, y2: box.y1});
    txt(g, (box.x0 + box.x1) / 2, box.y1 + 34, label, {'class': 'axis-label',
                                                       'text-anchor': 'middle'});
  }

  function shorten(s, n) { return s.length > n ? s.slice(0, n - 1) + '\u2026' : s; }

  // Category labels: horizontal when few and short, else rotated; thinned to about 40.
  var LABEL_MAX = 24;
  function catLayout(labels, plotWidth) {
    var maxLen = 0;
    labels.forEach(function (l) { maxLen = Math.max(maxLen, Math.min(l.length, LABEL_MAX)); });
    var rotate = maxLen * 6.4 > 0.95 * plotWidth / labels.length;
    var bottom = rotate ? 26 + maxLen * 6.2 * 0.72 : 26;
    // Rotated labels need about 17 units between neighbours to stay apart: thin them out.
    var slot = plotWidth / labels.length;
    var every = rotate ? Math.max(1, Math.ceil(17 / slot)) : 1;
    return {rotate: rotate, bottom: bottom, every: every};
  }
  function xAxisCats(svg, box, labels, layout, label) {
    var g = el(svg, 'g', {'class': 'axis'});
    var n = labels.length, bw = (box.x1 - box.x0) / n;
    el(g, 'line', {x1: box.x0, x2: box.x1, y1: box.y1, y2: box.y1});
    labels.forEach(function (l, i) {
      if (i % layout.every !== 0) return;
      var x = r1(box.x0 + (i + 0.5) * bw), y = box.y1 + 14;
      var t = layout.rotate
          ? txt(g, x, y, shorten(l, LABEL_MAX), {'class': 'tick', 'text-anchor': 'end',
                                                 transform: 'rotate(-45 ' + x + ' ' + y + ')'})
          : txt(g, x, y, shorten(l, LABEL_MAX), {'class': 'tick', 'text-anchor': 'middle'});
      tip(t, l);
    });
    if (label) {
      txt(g, (box.x0 + box.x1) / 2, box.h - 6, label, {'class': 'axis-label',
                                                       'text-anchor': 'middle'});
    }
  }

  function emptyMessage(svg, msg) {
    svg.setAttribute('viewBox', '0 0 ' + W + ' 120');
    txt(svg, W / 2, 60, msg, {'class': 'empty-msg', 'text-anchor': 'middle'});
    return 0;
  }

  function setNote(svg, msg) {
    var fig = svg.parentNode;
    var p = fig && fig.querySelector('.chart-note');
    if (p) p.textContent = msg;
  }

  // ---- stacked bars (latency, energy, area) ---------------------------------------------

  // cats: [{label, full, values: [..per series..], tip}], series: [{name, color}].
  function stackedBars(svg, cats, series, yLabel) {
    // Series that are zero everywhere only clutter the legend.
    var used = series.map(function (s, k) {
      return cats.some(function (c) { return c.values[k] > 0; });
    });
    var legendItems = series.filter(function (s, k) { return used[k]; });
    var labels = cats.map(function (c) { return c.label; });
    var layout = catLayout(labels, SW - 88);
    var box = frame(svg, SW, SH + (layout.rotate ? 40 : 0), legendItems, layout.bottom);
    var maxv = 0;
    cats.forEach(function (c) {
      var s = 0;
      c.values.forEach(function (v) { s += Math.max(0, v); });
      maxv = Math.max(maxv, s);
    });
    var y = linear(0, maxv, box.y1, box.y0);
    yAxis(svg, box, y, yLabel);
    var g = el(svg, 'g', {'class': 'marks'});
    var n = cats.length, bw = (box.x1 - box.x0) / n, marks = 0;
    // Bars at most 70 units wide, so one or two points do not fill the chart with colour.
    var pad = Math.max(Math.min(bw * 0.2, 12), bw - 70);
    cats.forEach(function (c, i) {
      var acc = 0, x = box.x0 + i * bw + pad / 2;
      series.forEach(function (s, k) {
        var v = Math.max(0, c.values[k]);
        if (!(v > 0)) return;
        var ya = y(acc), yb = y(acc + v);
        var rect = el(g, 'rect', {'class': 'mark', x: r1(x), y: r1(yb), width: r1(bw - pad),
                                  height: Math.max(0.5, r1(ya - yb)), fill: s.color});
        tip(rect, c.full + '\n' + s.name + ': ' + fmt(v) + ' ' + c.unit +
                      (c.extra ? c.extra[k] : '') + '\ntotal: ' + fmt(c.total) + ' ' + c.unit);
        acc += v;
        marks += 1;
      });
      if (acc === 0) {  // keep zero-valued points visible as a hairline
        el(g, 'rect', {'class': 'mark zero', x: r1(x), y: box.y1 - 1, width: r1(bw - pad),
                       height: 1, fill: '#6b7384'});
        marks += 1;
      }
    });
    xAxisCats(svg, box, labels, layout, null);
    return marks;
  }

  // Places point labels without overlaps: tries a few spots around the marker, skips the label
  // (the tooltip remains) when all are taken.
  function labelPlacer(svg, box) {
    var placed = [];
    return function (cx, cy, str) {
      var w = str.length * 6.3 + 2, h = 11;
      var spots = [[8, 4], [8, -8], [-8 - w, 4], [-8 - w, -8], [8, 16], [8, -20], [-8 - w, 16],
                   [-8 - w, -20], [8, 28], [8, -32]];
      for (var i = 0; i < spots.length; ++i) {
        var x = cx + spots[i][0], y = cy + spots[i][1];  // top-left of the label's box
        if (x < box.x0 || x + w > box.x1 || y < box.y0 || y + h > box.y1) continue;
        var free = placed.every(function (b) {
          return x + w < b[0] || b[0] + b[2] < x || y + h < b[1] || b[1] + b[3] < y;
        });
        if (!free) continue;
        placed.push([x, y, w, h]);
        txt(svg, r1(x), r1(y + 9), str, {'class': 'point-label'});
        return true;
      }
      return false;
    };
  }
  function pointLabels(points) {
    return points.map(function (p, i) { return p.id || ('#' + i); });
  }

  function drawLatency(svg, data) {
    var pts = data.report.points;
    var maxs = 0;
    pts.forEach(function (p) { maxs = Math.max(maxs, p.seconds); });
    var u = pickUnit(maxs, TIME_UNITS);
    var labels = pointLabels(pts);
    var cats = pts.map(function (p, i) {
      var stallFrac = p.cycles > 0 ? p.stall_cycles / p.cycles : 0;
      var compute = p.cycles - p.stall_cycles;
      return {
        label: labels[i], full: labels[i], unit: u.name, total: p.seconds / u.f,
        values: [p.seconds * (1 - stallFrac) / u.f, p.seconds * stallFrac / u.f],
        extra: [' (' + fmtInt(compute) + ' cycles)', ' (' + fmtInt(p.stall_cycles) + ' cycles)']
      };
    });
    return stackedBars(svg, cats, [{name: 'compute', color: PALETTE[0]},
                                   {name: 'memory stall', color: PALETTE[5]}],
                       'latency (' + u.name + ')');
  }

  function drawBreakdown(svg, data, field, components, units, fixedUnit, yName) {
    var pts = data.report.points;
    var totals = pts.map(function (p) {
      var s = 0;
      for (var k in p[field]) s += p[field][k];
      return s;
    });
    var u = fixedUnit || pickUnit(Math.max.apply(null, totals.concat([0])), units);
    var labels = pointLabels(pts);
    var series = components.map(function (c, k) {
      return {name: c.replace(/_/g, ' '), color: PALETTE[k % PALETTE.length]};
    });
    var cats = pts.map(function (p, i) {
      return {label: labels[i], full: labels[i], unit: u.name, total: totals[i] / u.f,
              values: components.map(function (c) { return (p[field][c] || 0) / u.f; })};
    });
    return stackedBars(svg, cats, series, yName + ' (' + u.name + ')');
  }

  function drawEnergy(svg, data) {
    return drawBreakdown(svg, data, 'energy_pj', data.energy_components, ENERGY_UNITS, null,
                         'energy');
  }
  function drawArea(svg, data) {
    if (!data.area_components.length) return emptyMessage(svg, 'No area figures in this report.');
    return drawBreakdown(svg, data, 'area_mm2', data.area_components, null,
                         {f: 1, name: 'mm\u00b2'}, 'area');
  }

  // ---- per-layer latency ----------------------------------------------------------------

  function drawLayers(svg, data) {
    var pts = data.report.points;
    // GEMMs in order of first appearance over all points (points may run different lists).
    var names = [], index = {};
    pts.forEach(function (p) {
      p.gemms.forEach(function (g) {
        if (!(g.gemm in index)) {
          index[g.gemm] = names.length;
          names.push(g.gemm);
        }
      });
    });
    if (!names.length) return emptyMessage(svg, 'No per-GEMM rows in this report.');
    var labels = pointLabels(pts);
    var width = LW;
    var bars = pts.length * names.length <= 160 && pts.length <= 9;
    var maxLegend = 12;
    var items = pts.slice(0, maxLegend).map(function (p, i) {
      return {name: shorten(labels[i], 24), color: PALETTE[i % PALETTE.length],
              shape: bars ? 'rect' : 'line', dash: DASHES[Math.floor(i / PALETTE.length) % 4]};
    });
    if (pts.length > maxLegend) {
      items.push({name: '\u2026 ' + (pts.length - maxLegend) + ' more (hover a line)',
                  color: '#fff'});
    }
    var layout = catLayout(names, width - 88);
    var box = frame(svg, width, H + (layout.rotate ? 50 : 0), items, layout.bottom);
    var maxc = 0;
    pts.forEach(function (p) { p.gemms.forEach(function (g) { maxc = Math.max(maxc, g.cycles); }); });
    var y = linear(0, maxc, box.y1, box.y0);
    y.label = fmtSI;
    yAxis(svg, box, y, 'cycles per GEMM');
    var g = el(svg, 'g', {'class': 'marks'});
    var bw = (box.x1 - box.x0) / names.length, marks = 0;
    pts.forEach(function (p, i) {
      var color = PALETTE[i % PALETTE.length];
      var d = '';
      p.gemms.forEach(function (gm) {
        var j = index[gm.gemm];
        var t = labels[i] + '\n' + gm.gemm + ' (' + gm.kind + ', M=' + gm.m + ' N=' + gm.n +
                ' K=' + gm.k + ')\n' + fmtInt(gm.cycles) + ' cycles, ' +
                fmtInt(gm.stall_cycles) + ' stall, utilization ' +
                (100 * gm.utilization).toFixed(1) + ' %';
        if (bars) {
          var w = Math.min(bw * 0.8 / pts.length, 40);  // a group centred in its slot
          var x = box.x0 + j * bw + (bw - w * pts.length) / 2 + i * w, yv = y(gm.cycles);
          tip(el(g, 'rect', {'class': 'mark', x: r1(x), y: r1(yv), width: Math.max(0.5, r1(w)),
                             height: Math.max(0.5, r1(box.y1 - yv)), fill: color}), t);
          marks += 1;
        } else {
          var cx = r1(box.x0 + (j + 0.5) * bw), cy = r1(y(gm.cycles));
          d += (d ? 'L' : 'M') + cx + ' ' + cy;
          if (names.length <= 40) {
            tip(el(g, 'circle', {'class': 'mark', cx: cx, cy: cy, r: 3, fill: color}), t);
            marks += 1;
          }
        }
      });
      if (!bars && d) {
        var path = el(g, 'path', {'class': 'mark', d: d, fill: 'none', stroke: color,
                                  'stroke-width': 1.6,
                                  'stroke-dasharray': DASHES[Math.floor(i / PALETTE.length) % 4] ||
                                                      null});
        tip(path, labels[i] + ': ' + p.gemms.length + ' GEMMs, ' + fmtInt(p.cycles) + ' cycles');
        g.insertBefore(path, g.firstChild);
        marks += 1;
      }
    });
    xAxisCats(svg, box, names, layout, null);
    return marks;
  }

  // ---- roofline -------------------------------------------------------------------------

  function drawRoofline(svg, data) {
    var pts = data.report.points;
    var labels = pointLabels(pts);
    var shown = [], skipped = [];
    pts.forEach(function (p, i) {
      if (p.op_intensity > 0 && p.attained_gops > 0) shown.push(i);
      else skipped.push(labels[i]);
    });
    if (skipped.length) {
      setNote(svg, skipped.length + ' point(s) not shown (no DRAM traffic or zero time, so no ' +
                       'intensity on a log axis): ' + skipped.slice(0, 8).join(', ') +
                       (skipped.length > 8 ? ', \u2026' : ''));
    }
    if (!shown.length) return emptyMessage(svg, 'No point has both DRAM traffic and run time.');
    // The report has no configured DRAM bandwidth: the slope is the highest bandwidth any
    // point attained, a lower bound of the real roof.
    var bw = 0, peaks = {};
    shown.forEach(function (i) {
      bw = Math.max(bw, pts[i].dram_gbps);
      if (pts[i].peak_gops > 0) peaks[pts[i].peak_gops] = true;
    });
    var peakList = Object.keys(peaks).map(Number).sort(function (a, b) { return a - b; });
    var xs = [], ys = [];
    shown.forEach(function (i) { xs.push(pts[i].op_intensity); ys.push(pts[i].attained_gops); });
    peakList.forEach(function (pk) { ys.push(pk); if (bw > 0) xs.push(pk / bw); });
    var xlo = Math.min.apply(null, xs) / 2, xhi = Math.max.apply(null, xs) * 2;
    var ylo = Math.min.apply(null, ys) / 2, yhi = Math.max.apply(null, ys) * 2;
    var items = [{name: 'points', color: PALETTE[0], shape: 'circle'},
                 {name: 'peak compute', color: '#6b7384', shape: 'line', dash: '6 3'}];
    if (bw > 0) items.push({name: 'DRAM bandwidth (highest attained)', color: PALETTE[6],
                            shape: 'line'});
    var box = frame(svg, W, H, items, 44);
    var x = logScale(xlo, xhi, box.x0, box.x1), y = logScale(ylo, yhi, box.y1, box.y0);
    yAxis(svg, box, y, 'attained throughput (GOP/s)');
    xAxisNumeric(svg, box, x, 'operational intensity (OP/byte, 2 \u00d7 MACs per DRAM byte)');
    var clipId = 'clip-roofline';
    var clip = el(el(svg, 'defs'), 'clipPath', {id: clipId});
    el(clip, 'rect', {x: box.x0, y: box.y0, width: box.x1 - box.x0, height: box.y1 - box.y0});
    var g = el(svg, 'g', {'class': 'marks', 'clip-path': 'url(#' + clipId + ')'});
    var marks = 0;
    var pmax = peakList.length ? peakList[peakList.length - 1] : y.hi;
    if (bw > 0) {
      var xr = pmax / bw;
      tip(el(g, 'path', {'class': 'mark', d: 'M' + r1(x(x.lo)) + ' ' + r1(y(bw * x.lo)) + 'L' +
                                                 r1(x(xr)) + ' ' + r1(y(pmax)),
                         stroke: PALETTE[6], 'stroke-width': 2, fill: 'none'}),
          'DRAM ' + fmt(bw) + ' GB/s (highest attained by any point)');
      marks += 1;
      // Label the visible part of the slope in its middle, rotated along it.
      var xa0 = Math.max(x.lo, y.lo / bw), xm = Math.sqrt(xa0 * xr);
      var ang = Math.atan2(y(bw * xr) - y(bw * xa0), x(xr) - x(xa0)) * 180 / Math.PI;
      var lx = r1(x(xm)), ly = r1(y(bw * xm) - 6);
      txt(svg, lx, ly, fmt(bw) + ' GB/s', {'class': 'roof-label', 'text-anchor': 'middle',
                                           transform: 'rotate(' + r1(ang) + ' ' + lx + ' ' + ly +
                                                      ')'});
    }
    peakList.forEach(function (pk) {
      var xa = bw > 0 ? x(pk / bw) : box.x0;
      tip(el(g, 'path', {'class': 'mark', d: 'M' + r1(xa) + ' ' + r1(y(pk)) + 'H' + box.x1,
                         stroke: '#6b7384', 'stroke-width': 1.5, 'stroke-dasharray': '6 3',
                         fill: 'none'}),
          'peak ' + fmt(pk) + ' GOP/s');
      txt(svg, box.x1 - 4, r1(y(pk) - 5), 'peak ' + fmt(pk) + ' GOP/s',
          {'class': 'roof-label', 'text-anchor': 'end'});
      marks += 1;
    });
    var place = labelPlacer(svg, box);
    shown.forEach(function (i, k) {
      var p = pts[i], cx = r1(x(p.op_intensity)), cy = r1(y(p.attained_gops));
      tip(el(g, 'circle', {'class': 'mark', cx: cx, cy: cy, r: 5, fill: PALETTE[k % PALETTE.length],
                           stroke: '#1d2330', 'stroke-width': 0.8}),
          labels[i] + '\n' + fmt(p.op_intensity) + ' OP/byte, ' + fmt(p.attained_gops) +
              ' GOP/s of ' + fmt(p.peak_gops) + ' peak\nDRAM ' + fmt(p.dram_gbps) + ' GB/s');
      marks += 1;
      if (shown.length <= 12) place(cx, cy, shorten(labels[i], 22));
    });
    return marks;
  }

  // ---- accuracy vs energy Pareto --------------------------------------------------------

  function drawPareto(svg, data) {
    var rep = data.report, pts = rep.points;
    var labels = pointLabels(pts);
    var onFront = {};
    (rep.pareto || []).forEach(function (i) { onFront[i] = true; });
    var shown = [], noAcc = [];
    pts.forEach(function (p, i) {
      if (p.has_accuracy) shown.push(i);
      else noAcc.push(labels[i]);
    });
    var notes = [];
    if (noAcc.length) {
      notes.push(noAcc.length + ' point(s) without an accuracy measurement are not shown: ' +
                 noAcc.slice(0, 8).join(', ') + (noAcc.length > 8 ? ', \u2026' : '') + '.');
    }
    if (!shown.length) {
      setNote(svg, notes.join(' '));
      return emptyMessage(svg, 'No point has an accuracy measurement.');
    }
    var e = shown.map(function (i) {
      var s = 0;
      for (var k in pts[i].energy_pj) s += pts[i].energy_pj[k];
      return s;
    });
    var emin = Math.min.apply(null, e), emax = Math.max.apply(null, e);
    var u = pickUnit(emax, ENERGY_UNITS);
    var useLog = emin > 0 && emax / emin > 50;
    if (useLog) notes.push('Energy axis is logarithmic.');
    setNote(svg, notes.join(' '));
    var items = [{name: 'point', color: PALETTE[1], shape: 'circle', stroke: '#1d2330'},
                 {name: 'Pareto front (accuracy, energy, area)', color: PALETTE[6],
                  shape: 'circle', r: 5.5, stroke: '#1d2330'},
                 {name: 'accuracy\u2013energy front', color: PALETTE[7], shape: 'line'}];
    var box = frame(svg, W, H, items, 44);
    var x = useLog ? logScale(emin / u.f / 1.5, emax / u.f * 1.5, box.x0, box.x1)
                   : linear(0, emax / u.f, box.x0, box.x1);
    var q = shown.map(function (i) { return pts[i].mean_qsnr_db; });
    var qlo = Math.min.apply(null, q), qhi = Math.max.apply(null, q);
    var padq = Math.max(1, (qhi - qlo) * 0.08);
    var y = linear(qlo - padq, qhi + padq, box.y1, box.y0);
    yAxis(svg, box, y, 'mean output QSNR (dB)');
    xAxisNumeric(svg, box, x, 'energy (' + u.name + ')');
    var g = el(svg, 'g', {'class': 'marks'});
    var marks = 0;
    // 2-D front: sorted by energy, keep each point more accurate than every cheaper one.
    var order = shown.map(function (i, k) { return k; }).sort(function (a, b) {
      return e[a] - e[b] || q[b] - q[a];
    });
    var best = -Infinity, d = '';
    order.forEach(function (k) {
      if (q[k] > best) {
        best = q[k];
        d += (d ? 'L' : 'M') + r1(x(e[k] / u.f)) + ' ' + r1(y(q[k]));
      }
    });
    if (d) {
      el(g, 'path', {'class': 'mark front-line', d: d, fill: 'none', stroke: PALETTE[7],
                     'stroke-width': 2});
      marks += 1;
    }
    var labelled = 0, place = labelPlacer(svg, box);
    shown.forEach(function (i, k) {
      var p = pts[i], front = !!onFront[i];
      var cx = r1(x(e[k] / u.f)), cy = r1(y(q[k]));
      tip(el(g, 'circle', {'class': 'mark' + (front ? ' front' : ''), cx: cx, cy: cy,
                           r: front ? 6 : 4.5, fill: front ? PALETTE[6] : PALETTE[1],
                           stroke: '#1d2330', 'stroke-width': front ? 1.5 : 0.8}),
          labels[i] + (front ? ' (Pareto front)' : '') + '\nmean QSNR ' + fmt(p.mean_qsnr_db) +
              ' dB (min ' + fmt(p.min_qsnr_db) + ')\nenergy ' + fmt(e[k] / u.f) + ' ' + u.name);
      marks += 1;
      if ((front || shown.length <= 8) && labelled < 15 && place(cx, cy, shorten(labels[i], 22))) {
        labelled += 1;
      }
    });
    return marks;
  }

  // ---- summary table sorting ------------------------------------------------------------

  function sortableTable(table) {
    var ths = table.querySelectorAll('thead th');
    Array.prototype.forEach.call(ths, function (th, col) {
      th.addEventListener('click', function () {
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(ths, function (o) { o.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var key = function (r) {
          var c = r.cells[col];
          var v = c.hasAttribute('data-v') ? c.getAttribute('data-v') : c.textContent;
          var n = Number(v);
          return v !== '' && isFinite(n) ? n : v;
        };
        rows.sort(function (a, b) {
          var ka = key(a), kb = key(b);
          var c = typeof ka === 'number' && typeof kb === 'number'
                      ? ka - kb : String(ka).localeCompare(String(kb));
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  // ---- main -----------------------------------------------------------------------------

  var CHARTS = {latency: drawLatency, energy: drawEnergy, layers: drawLayers,
                roofline: drawRoofline, pareto: drawPareto, area: drawArea};

  function main() {
    var node = document.getElementById('qarch-data');
    var data = JSON.parse(node.textContent);
    var table = document.getElementById('summary');
    if (table) sortableTable(table);
    var svgs = document.querySelectorAll('svg[data-chart]');
    Array.prototype.forEach.call(svgs, function (svg) {
      var kind = svg.getAttribute('data-chart');
      try {
        if (!CHARTS[kind]) throw new Error('unknown chart "' + kind + '"');
        if (!data.report.points.length) {
          svg.setAttribute('data-rendered', String(emptyMessage(svg, 'No points.')));
          return;
        }
        svg.setAttribute('data-rendered', String(CHARTS[kind](svg, data)));
      } catch (e) {
        showError(kind + ' chart', e);
      }
    });
  }

  try {
    main();
  } catch (e) {
    showError('the report', e);
  }
  document.body.setAttribute('data-qarch-done', '1');
})();
