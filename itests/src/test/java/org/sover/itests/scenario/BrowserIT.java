package org.sover.itests.scenario;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.sover.itests.Browser;
import org.sover.itests.NodeProcess;
import org.sover.itests.TestImages;

/**
 * A family member in Debian's Chromium (headless): sets up a new node with its setup code,
 * signs out and in, creates an album, uploads six
 * images through the file picker and sees their thumbnails; screenshots at desktop and
 * phone width land in target/screenshots.
 */
public class BrowserIT {
    private static final String PASSWORD = "browser-test-password";
    private NodeProcess node;
    private Browser browser;
    private WebDriver driver;

    @Before
    public void start() throws Exception {
        browser = Browser.open(); // fails first, and says what to install, without Chromium
        driver = browser.driver;
        node = NodeProcess.create("browser", Map.of()).start().awaitHealthy(Duration.ofSeconds(90))
                .awaitUi(Duration.ofSeconds(30));
    }

    @After
    public void stop() throws Exception {
        if (browser != null) {
            browser.close();
        }
        if (node != null) {
            node.close();
        }
    }

    @Test
    public void setUpSignInCreateAnAlbumUploadTwoImagesAndSeeTheirThumbnails() throws Exception {
        String code = Files.readString(node.data.resolve("setup-code")).strip();
        driver.get("http://127.0.0.1:" + node.httpPort + "/");
        testid("setup-code").sendKeys(code);
        testid("setup-username").sendKeys("grandma");
        testid("setup-password").sendKeys(PASSWORD);
        testid("setup-password-confirm").sendKeys(PASSWORD);
        shot("setup");
        testid("setup-submit").click();
        waitFor("[data-testid=albums-empty-create], [data-testid=album-create]");

        // Sign out and back in, as on any other day.
        testid("logout").click(); // asks for confirmation only while uploads are running
        testid("login-username").sendKeys("grandma");
        testid("login-password").sendKeys(PASSWORD);
        shot("login");
        testid("login-submit").click();

        WebElement create = waitFor("[data-testid=albums-empty-create], [data-testid=album-create]");
        shot("albums-empty");
        create.click();
        testid("album-name-input").sendKeys("Grandma's 90th");
        testid("album-dialog-submit").click();
        // A new album opens at once, ready for photos.
        new WebDriverWait(driver, Duration.ofSeconds(30))
                .until(d -> testid("album-title").getText().contains("Grandma's 90th"));

        // Many files at once, JPEG and PNG, landscape and portrait: the UI sends three at a time.
        Path dir = Files.createTempDirectory("sover-upload-");
        StringBuilder files = new StringBuilder();
        String[] names = {"lake.jpg", "cake.jpg", "garden.png", "hills.jpg", "porch.png", "sunset.jpg"};
        for (int i = 0; i < names.length; i++) {
            Path f = dir.resolve(names[i]);
            boolean portrait = i % 3 == 1;
            Files.write(f, TestImages.image(names[i].endsWith(".png") ? "png" : "jpg", portrait ? 1000 : 1800,
                    portrait ? 1400 : 1200, 90 + i));
            files.append(files.length() == 0 ? "" : "\n").append(f.toAbsolutePath());
        }
        WebElement input = waitForPresent("[data-testid=upload-input]");
        input.sendKeys(files.toString());

        new WebDriverWait(driver, Duration.ofSeconds(60)).until(d -> loadedThumbnails() == names.length);
        assertEquals(names.length, driver.findElements(By.cssSelector("[data-testid=photo-tile]")).size());
        assertEquals(names.length, driver.findElements(By.cssSelector("[data-testid=upload-item]")).size());
        shot("album-upload-desktop");
        testid("upload-panel-close").click();
        driver.findElements(By.cssSelector("[data-testid=toast-close]")).forEach(WebElement::click);
        new WebDriverWait(driver, Duration.ofSeconds(10))
                .until(d -> d.findElements(By.cssSelector("[data-testid=toast], [data-testid=upload-panel]")).stream()
                        .noneMatch(WebElement::isDisplayed));
        shot("album-desktop");

        browser.size(360, 740);
        new WebDriverWait(driver, Duration.ofSeconds(10)).until(d -> loadedThumbnails() == names.length);
        shot("album-phone");
        driver.findElements(By.cssSelector("[data-testid=photo-tile]")).get(0).click();
        waitFor("[data-testid=viewer]");
        shot("viewer-phone");
        browser.size(1280, 900);
        shot("viewer-desktop");
        testid("viewer-close").click();
        driver.get("http://127.0.0.1:" + node.httpPort + "/#/albums");
        WebElement card = waitFor("[data-testid=album-card]");
        assertTrue(card.getText(), card.getText().contains("Grandma's 90th") && card.getText().contains("6 photos"));
        new WebDriverWait(driver, Duration.ofSeconds(10)).until(d -> ((Number) ((JavascriptExecutor) d).executeScript(
                "return Array.from(document.querySelectorAll('[data-testid=album-card] img'))"
                        + ".filter(i => i.complete && i.naturalWidth > 0).length;")).longValue() == 1);
        shot("albums-desktop");
        browser.size(360, 740);
        shot("albums-phone");

        List<LogEntry> severe = browser.consoleErrors(message -> false);
        assertTrue("no console errors: " + severe, severe.isEmpty());
    }

    private long loadedThumbnails() {
        Object n = ((JavascriptExecutor) driver).executeScript(
                "return Array.from(document.querySelectorAll('[data-testid=photo-tile] img'))"
                        + ".filter(i => i.complete && i.naturalWidth > 0).length;");
        return ((Number) n).longValue();
    }

    private WebElement testid(String id) {
        return browser.testid(id);
    }

    private WebElement waitFor(String css) {
        return browser.waitFor(css);
    }

    private WebElement waitForPresent(String css) {
        return browser.waitForPresent(css);
    }

    private void shot(String name) throws Exception {
        browser.shot(name);
    }
}
