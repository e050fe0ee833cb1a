// The scan view's interactions: a span opens its sources, a source
// highlights every span that cites it, and the keyboard does all of it
// (Tab or n/p between spans, Enter opens, Escape goes back to the span).
// Event delegation on the document, so that pages swapped in by htmx work.
(function () {
  'use strict';
  function spans() { return Array.prototype.slice.call(document.querySelectorAll('mark.span')); }

  function open(mark) {
    var i = mark.getAttribute('data-span');
    var detail = document.getElementById('detail-' + i);
    if (!detail) { return; }
    document.querySelectorAll('.detail').forEach(function (d) { d.hidden = true; });
    spans().forEach(function (m) { m.classList.remove('selected'); m.setAttribute('aria-expanded', 'false'); });
    detail.hidden = false;
    mark.classList.add('selected');
    mark.setAttribute('aria-expanded', 'true');
    detail.focus();
  }

  function back(i) {
    var m = document.getElementById('span-' + i);
    if (m) { m.focus(); }
  }

  function cite(doc) {
    var buttons = document.querySelectorAll('button.cite');
    var wasOn = document.querySelector('button.cite[data-doc="' + doc + '"][aria-pressed="true"]') !== null;
    buttons.forEach(function (b) { b.setAttribute('aria-pressed', String(!wasOn && b.getAttribute('data-doc') === doc)); });
    var n = 0;
    spans().forEach(function (m) {
      var on = !wasOn && (' ' + m.getAttribute('data-docs') + ' ').indexOf(' ' + doc + ' ') >= 0;
      m.classList.toggle('cited', on);
      if (on) { n += 1; }
    });
    var status = document.getElementById('status');
    if (status) { status.textContent = wasOn ? 'Highlight cleared.' : n + ' span(s) cite this source.'; }
    var first = document.querySelector('mark.span.cited');
    if (first && first.scrollIntoView) { first.scrollIntoView({ block: 'nearest' }); }
  }

  function step(from, forward) {
    var all = spans();
    if (!all.length) { return; }
    var i = from ? all.indexOf(from) : -1;
    var next = i < 0 ? 0 : (forward ? Math.min(i + 1, all.length - 1) : Math.max(i - 1, 0));
    all[next].focus();
  }

  document.addEventListener('click', function (e) {
    var t = e.target;
    if (!t.closest) { return; }
    var m = t.closest('mark.span');
    if (m) { open(m); return; }
    var c = t.closest('button.cite');
    if (c) { cite(c.getAttribute('data-doc')); return; }
    var b = t.closest('button.back');
    if (b) { back(b.getAttribute('data-span')); }
  });

  document.addEventListener('keydown', function (e) {
    var t = e.target;
    if (!t.closest || e.altKey || e.ctrlKey || e.metaKey) { return; }
    if (t.closest('input, textarea, select')) { return; }
    var m = t.closest('mark.span');
    if (m && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); open(m); return; }
    if (e.key === 'Escape') {
      var sel = document.querySelector('mark.span.selected');
      if (sel) { e.preventDefault(); sel.focus(); }
      return;
    }
    if (e.key === 'n' || e.key === 'p') {
      e.preventDefault();
      step(m || document.querySelector('mark.span.selected'), e.key === 'n');
    }
  });
}());
