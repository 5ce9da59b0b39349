// Quiz answers and instructor notes are folded (<details>) on screen, and a
// browser prints a closed fold as its summary line alone: a PDF of the book
// would lose every answer. So every fold opens for print, and the ones that
// were closed close again afterwards. print.html exists to be printed
// (mdBook calls print() once it has loaded), so there they open at once.
(function () {
    const folds = () => document.querySelectorAll('#mdbook-content details');
    let openedForPrint = [];
    window.addEventListener('beforeprint', () => {
        openedForPrint = [...folds()].filter((fold) => !fold.open);
        openedForPrint.forEach((fold) => { fold.open = true; });
    });
    window.addEventListener('afterprint', () => {
        openedForPrint.forEach((fold) => { fold.open = false; });
        openedForPrint = [];
    });
    if (window.location.pathname.endsWith('/print.html')) {
        folds().forEach((fold) => { fold.open = true; });
    }
})();
